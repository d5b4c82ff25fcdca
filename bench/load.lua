-- wrk script for bench/load.sh: visitors asking questions on /api/chat,
-- counting the statuses they get. Each wrk thread has its own Lua state,
-- so the counts are plain globals read back in done().
local questions = {
  "Quand ouvre l'exposition Destination IA ?",
  "Qui a gagné le Datathon ?",
  "Quel est le plafond de la subvention Impulsion Conseil ?",
  "Où se trouve le siège de l'AD Normandie ?",
  "Bonjour",
}
local threads = {}
c200, c429, c503, c503_no_retry, cother = 0, 0, 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  local q = questions[math.random(#questions)]
  local body = '{"message": "' .. q:gsub('"', '\\"') .. '"}'
  return wrk.format("POST", "/api/chat", { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 429 then c429 = c429 + 1
  elseif status == 503 then
    c503 = c503 + 1
    if headers["Retry-After"] == nil and headers["retry-after"] == nil then
      c503_no_retry = c503_no_retry + 1
    end
  else cother = cother + 1 end
end

function done(summary, latency, requests)
  local t = { c200 = 0, c429 = 0, c503 = 0, c503_no_retry = 0, cother = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
  end
  io.write(string.format(
    "statuses: 200=%d 429=%d 503=%d (without Retry-After: %d) other=%d; socket errors: connect %d, read %d, write %d, timeout %d\n",
    t.c200, t.c429, t.c503, t.c503_no_retry, t.cother,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.0f ms, p99 %.0f ms, max %.0f ms; requests %d in %.0f s\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, summary.duration / 1e6))
end
