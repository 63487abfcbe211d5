"""The scan corpus (issue 12): each real PDF of tests/documents/corpus-pdf as a scanner would give it
back — its first page drawn at 200 dpi in grey, turned by a small angle (at most 0.5°), with light
noise, saved as a JPEG inside an image-only PDF — and each real scan as it is. Deterministic: the angle
and the noise come from a generator seeded by the document's name.

Only the first page is drawn: the fields of the corpus's letters (head, 正本/副本) are all on it, and
OCR costs about 3 s a page. The images are made at run time and kept in /tmp under the digest of the
source and of this recipe, so a second run reads them back.

    python -m tests.documents.scan_corpus OUT   # writes OUT/NAME/source.pdf and expected.json
"""

import hashlib
import io
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

import pypdfium2
from PIL import Image, ImageChops

CORPUS_PDF = Path(__file__).parent / "corpus-pdf"
DPI = 200
RECIPE = "v1 first page, 200 dpi grey, angle <= 0.5, noise sigma 6, JPEG q70"
CACHE = Path(tempfile.gettempdir()) / "gongwen-scan-corpus"
# Light noise: a pixel moves by -12 … +12 grey levels, mostly by little (sigma about 6).
_NOISE = [128 + step for step in range(-12, 13) for _ in range(max(1, 13 - 2 * abs(step)))]


def scanned(pdf: bytes, *, seed: str) -> bytes:
    """The first page of a PDF as an image-only PDF, as a scanner gives it back."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0].render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    generator = random.Random(seed)
    angle = generator.uniform(-0.5, 0.5)
    page = page.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    # Gaussian noise centred on 128 (seeded through Pillow's own generator is not possible, so the
    # noise is drawn from ours): each pixel moves by its departure from 128.
    noise = Image.frombytes("L", page.size, bytes(generator.choices(_NOISE, k=page.size[0] * page.size[1])))
    page = ImageChops.add(page, noise, scale=1.0, offset=-128)
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=DPI, quality=70)
    return out.getvalue()


def scan_corpus(folder: Path | None = None) -> Path:
    """A corpus folder of scans (made, or found in the cache) with each document's expected.json."""
    folder = folder or CACHE
    for entry in sorted(path for path in CORPUS_PDF.iterdir() if path.is_dir()):
        form = json.loads((entry / "source.json").read_text(encoding="utf-8")).get("form")
        source = next(path for path in entry.glob("source.*") if path.suffix != ".json")
        data = source.read_bytes()
        key = hashlib.sha256(data + RECIPE.encode()).hexdigest()[:16]
        target = folder / entry.name
        made = target / f"source-{key}"
        if not made.exists():
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            scan = data if form == "scan" else scanned(data, seed=entry.name)
            (target / f"source{source.suffix if form == 'scan' else '.pdf'}").write_bytes(scan)
            made.mkdir()
        shutil.copyfile(entry / "expected.json", target / "expected.json")
    return folder


if __name__ == "__main__":
    print(scan_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
