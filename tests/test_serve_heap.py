"""`serve` freezes what start-up built before it takes requests: under a stream of webhooks,
full garbage collections otherwise scanned the whole start-up heap (about 200,000 objects)
about once a second, holding the GIL for about 100 ms each and stalling every request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_cli import clean_env

# uvicorn (a library) is replaced by a stub that reports the heap as the server would start.
SERVE_WITH_STUB_UVICORN = """
import gc, uvicorn
def stub(app, **options):
    print("frozen", gc.get_freeze_count())
uvicorn.run = stub
from clientcontact.cli import cli
cli(["serve", "--port", "0"], standalone_mode=False)
"""


def test_serve_starts_with_the_start_up_heap_frozen(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", SERVE_WITH_STUB_UVICORN], cwd=tmp_path,
                         env=clean_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    line = next(line for line in run.stdout.splitlines() if line.startswith("frozen"))
    assert int(line.split()[1]) > 50_000, line
