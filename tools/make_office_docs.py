#!/usr/bin/env python3
"""Writes the PDF and DOCX program documents of corpus/programmes/.

Staff bring PDFs and Word files; the corpus keeps one of each so that the
evaluation has questions whose answer lies in a PDF (with its page) or a
DOCX. The text below is written in the project's own words from
../shared/research/corpus_facts.md (section 3). Only the Python standard
library is used and every byte is deterministic (fixed zip timestamps, no
compression dates), so running it again reproduces the committed files:

    python3 tools/make_office_docs.py
"""

import pathlib
import textwrap
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "corpus" / "programmes"

# --- Impulsion Conseil (PDF, two pages) ------------------------------------

CONSEIL = {
    "title": "Impulsion Conseil",
    "subject": "AD Normandie et Région Normandie, fiche du dispositif Impulsion Conseil",
    "keywords": "aide, conseil, TPE, PME, AD Normandie",
    "url": "https://adnormandie.fr/financements-aux-entreprises/",
    "date": "20261128",
    "pages": [
        [
            ("h1", "Impulsion Conseil"),
            ("p", "Impulsion Conseil est une aide de la Région Normandie, gérée par l'AD Normandie. "
                  "Elle aide les TPE et les PME normandes à faire appel à des consultants extérieurs "
                  "pour construire un projet stratégique ou de croissance."),
            ("h2", "Entreprises éligibles"),
            ("p", "L'entreprise doit avoir au moins un établissement en Normandie. Sont concernées "
                  "l'industrie, les services aux entreprises et l'artisanat de production dont le "
                  "chiffre d'affaires est surtout réalisé auprès d'autres entreprises, les commerces "
                  "qui produisent ou transforment, et les entreprises du tourisme."),
            ("p", "Les entreprises qui vendent surtout aux particuliers ne sont éligibles que si elles "
                  "travaillent à l'échelle nationale ou internationale. La finance, l'assurance et la "
                  "gestion immobilière sont exclues."),
            ("h2", "Dépenses retenues"),
            ("p", "Sont retenues les prestations de conseil extérieur : faisabilité, ingénierie, "
                  "stratégie et autres prestations intellectuelles. Le projet porte soit sur "
                  "l'innovation et le développement économique, soit sur la performance "
                  "opérationnelle : modernisation de la production, organisation industrielle, "
                  "excellence environnementale et RSE, ou facteur humain."),
            ("p", "Les frais de déplacement, la gestion courante et les obligations réglementaires "
                  "ne sont pas pris en charge."),
        ],
        [
            ("h2", "Montant de l'aide"),
            ("p", "L'aide est une subvention de 50 % des dépenses éligibles, plafonnée à 15 000 euros "
                  "hors taxes par dossier. Une journée de consultant est retenue pour 1 000 euros "
                  "hors taxes au plus."),
            ("p", "Un même bénéficiaire reçoit au plus 25 000 euros hors taxes de subvention sur "
                  "trois ans."),
            ("h2", "Bon à savoir"),
            ("p", "Le conseil à l'export relève du dispositif Impulsion Export. Les associations "
                  "professionnelles, les pôles de compétitivité et les chambres consulaires ne "
                  "peuvent pas être le prestataire rémunéré. Plusieurs études menées par des "
                  "consultants différents peuvent être cumulées si elles servent un seul et même "
                  "objectif."),
        ],
    ],
}

# --- Impulsion Export (DOCX) -----------------------------------------------

EXPORT = {
    "title": "Impulsion Export",
    "subject": "AD Normandie et Région Normandie, fiche du dispositif Impulsion Export",
    "keywords": "aide, export, international, AD Normandie",
    "identifier": "https://aides.normandie.fr/node/1740",
    "created": "2026-11-28T00:00:00Z",
    "body": [
        ("Title", "Impulsion Export"),
        (None, "Impulsion Export est le dispositif régional d'aide à l'export, géré par "
               "l'AD Normandie. Il a remplacé les anciens dispositifs APPEX, NEO et STRATEX "
               "à partir du 6 juillet 2016."),
        ("Heading2", "Pour qui"),
        (None, "Le dispositif s'adresse aux TPE, aux PME et aux entreprises de taille "
               "intermédiaire qui cherchent de nouveaux marchés à l'étranger."),
        ("Heading2", "Montant de l'aide"),
        (None, "La subvention est plafonnée à 75 000 euros sur deux ans glissants à compter de "
               "la décision de l'AD Normandie. Son taux varie et atteint au plus 50 % des "
               "dépenses éligibles hors taxes."),
        ("Heading2", "Dépenses éligibles"),
        (None, "La préparation : études, conseil, réglementation et adaptation des produits."),
        (None, "Les déplacements à l'étranger, à deux personnes au plus, et les salons, "
               "y compris sur un stand collectif."),
        (None, "Le marketing international : outils, site web et traduction."),
        (None, "Le personnel export : un contrat durable ou d'au moins six mois, consacré au "
               "moins à mi-temps à l'export ; les apprentis à partir de Bac+4. Les volontaires "
               "internationaux en entreprise (V.I.E) sont aidés pour les TPE et PME, et par "
               "exception pour les entreprises de taille intermédiaire."),
        (None, "Seule la prospection de nouveaux pays est aidée, pas celle des pays où "
               "l'entreprise vend déjà de façon significative."),
    ],
}


def pdf_string(text):
    data = text.encode("cp1252")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_page_stream(blocks):
    """Content stream of one page: a title, headings and wrapped paragraphs."""
    out = [b"BT"]
    y = 800
    for kind, text in blocks:
        if kind == "h1":
            size, font, width, before = 18, b"/F2", 50, 0
        elif kind == "h2":
            size, font, width, before = 13, b"/F2", 70, 12
        else:
            size, font, width, before = 11, b"/F1", 95, 8
        y -= before
        for line in textwrap.wrap(text, width):
            y -= round(size * 1.3)
            out.append(b"%s %d Tf 1 0 0 1 56 %d Tm %s Tj" % (font, size, y, pdf_string(line)))
        y -= 4
    out.append(b"ET")
    return b"\n".join(out)


def write_pdf(path, doc):
    objects = []

    def add(body):
        objects.append(body)
        return len(objects)

    catalog = add(None)
    pages = add(None)
    f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for blocks in doc["pages"]:
        stream = pdf_page_stream(blocks)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
            % (pages, f1, f2, content)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages
    objects[pages - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info = add(b"<< /Title %s /Subject %s /Keywords %s /URL %s /CreationDate (D:%s000000Z) >>" % (
        pdf_string(doc["title"]), pdf_string(doc["subject"]), pdf_string(doc["keywords"]),
        pdf_string(doc["url"]), doc["date"].encode()))
    data = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        data += b"%010d 00000 n \n" % offset
    data += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, info, xref)
    path.write_bytes(bytes(data))


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_docx(path, doc):
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraphs = []
    for style, text in doc["body"]:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        paragraphs.append(f'<w:p>{props}<w:r><w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r></w:p>')
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<w:document xmlns:w="{w}"><w:body>{"".join(paragraphs)}</w:body></w:document>')
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{xml_escape(doc["title"])}</dc:title>'
            f'<dc:subject>{xml_escape(doc["subject"])}</dc:subject>'
            f'<dc:identifier>{xml_escape(doc["identifier"])}</dc:identifier>'
            f'<cp:keywords>{xml_escape(doc["keywords"])}</cp:keywords>'
            f'<dc:language>fr-FR</dc:language>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{doc["created"]}</dcterms:created>'
            '</cp:coreProperties>')
    content_types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                     '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
                     '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in [("[Content_Types].xml", content_types), ("_rels/.rels", rels),
                           ("word/document.xml", document), ("docProps/core.xml", core)]:
            info = zipfile.ZipInfo(name, date_time=(2025, 12, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write_pdf(OUT / "impulsion-conseil.pdf", CONSEIL)
    write_docx(OUT / "impulsion-export.docx", EXPORT)
    print("wrote", OUT / "impulsion-conseil.pdf", "and", OUT / "impulsion-export.docx")
