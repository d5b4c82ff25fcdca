"""The official `openai` client (from PyPI) against EulCat's
OpenAI-compatible API: models, a completion, a streamed completion, a
follow-up, and the errors the client turns into its own exceptions.

Run by the Rust test `openai::the_official_python_client_talks_to_a_real_server`
with the venv that `.ci/run` builds (EULCAT_TEST_PYTHON); exits non-zero on
the first failed check.
"""

import argparse
import sys

import openai

QUESTION = "Combien d'équipes ont participé au Datathon Normandie ?"


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    # No retries: a failure must show here, not be hidden by a second try.
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=120)

    models = [model.id for model in client.models.list()]
    check(models == ["eulcat"], f"the assistant is the one model listed: {models}")

    completion = client.chat.completions.create(
        model="eulcat",
        messages=[
            {"role": "system", "content": "Tu es un assistant."},
            {"role": "user", "content": QUESTION},
        ],
        temperature=0,
    )
    content = completion.choices[0].message.content
    extra = completion.model_extra or {}
    print(f"completion: {content!r}")
    check(completion.object == "chat.completion", "non-streaming object")
    check(completion.choices[0].message.role == "assistant", "assistant role")
    check(completion.choices[0].finish_reason == "stop", "finish_reason stop")
    check("6 équipes" in content, "the answer quotes the corpus")
    check("\n\nSources\u00a0:\n- " in content, "the content ends with a Sources list")
    check(extra.get("kind") == "extractive", f"kind in an extra field: {extra.get('kind')}")
    sources = extra.get("sources") or []
    check(len(sources) > 0 and sources[0]["quote"] in content, "sources in an extra field")
    usage = completion.usage
    check(
        usage is not None
        and usage.prompt_tokens > 0
        and usage.completion_tokens > 0
        and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens,
        f"usage counts: {usage}",
    )

    stream = client.chat.completions.create(
        model="eulcat",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    check(len(chunks) >= 4, f"several chunks ({len(chunks)})")
    check(chunks[0].choices[0].delta.role == "assistant", "the first chunk carries the role")
    streamed = "".join(
        chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices
    )
    check(streamed == content, "the streamed pieces add up to the non-streamed content")
    finals = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    check(
        len(finals) == 1 and finals[0].choices[0].finish_reason == "stop",
        "one final chunk with finish_reason",
    )
    check(len((finals[0].model_extra or {}).get("sources") or []) > 0, "sources on the final chunk")
    check(chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0, "usage chunk last")

    short = client.chat.completions.create(
        model="eulcat", messages=[{"role": "user", "content": QUESTION}], max_tokens=4
    )
    check(short.choices[0].finish_reason == "length", "max_tokens ends with length")
    check(short.usage.completion_tokens <= 4, f"at most 4 tokens: {short.usage}")

    # A conversation as clients send it: the whole history each time.
    history = [{"role": "user", "content": "Parle-moi du Datathon Normandie."}]
    first = client.chat.completions.create(model="eulcat", messages=history)
    history.append({"role": "assistant", "content": first.choices[0].message.content})
    history.append({"role": "user", "content": "Et qui l'a gagné ?"})
    follow_up = client.chat.completions.create(model="eulcat", messages=history)
    print(f"follow-up: {follow_up.choices[0].message.content!r}")
    check(
        (follow_up.model_extra or {}).get("kind") == "extractive"
        and "Compétences à la carte" in follow_up.choices[0].message.content,
        "a follow-up is read with the earlier turn",
    )

    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
        check(False, "an unknown model is refused")
    except openai.NotFoundError as error:
        check(error.code == "model_not_found", f"unknown model: NotFoundError {error.code}")

    try:
        client.chat.completions.create(
            model="eulcat", messages=[{"role": "user", "content": QUESTION}], temperature=5
        )
        check(False, "an out-of-range temperature is refused")
    except openai.BadRequestError as error:
        check(error.param == "temperature", f"bad temperature: BadRequestError on {error.param}")

    wrong_key = openai.OpenAI(base_url=args.base_url, api_key="wrong", max_retries=0)
    try:
        wrong_key.models.list()
        check(False, "a wrong key is refused")
    except openai.AuthenticationError as error:
        check(error.status_code == 401, "wrong key: AuthenticationError 401")

    print("openai client: all checks passed")


if __name__ == "__main__":
    main()
