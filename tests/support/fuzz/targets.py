"""The parser entry points under fuzzing, the seeds each gets, and what each may raise.

Engines are called as the pipeline calls them: built from their `EngineSpec` with the default
policy's options, given an `Item` typed as the seed was (the type that routes the file to them)
and the policy's context. An engine may raise nothing: it turns the damage it expects into
findings (CORRUPT...), and whatever escapes becomes ENGINE_ERROR in the pipeline, which rejects
the file (fail closed) but says "the engine failed" where "damaged file" was the answer. The
format readers (and the media structure walkers) may raise only what their docstrings name.
clamav and moderation need a clamd or a moderation backend and are not fuzzed here; the
pipeline runs with clamav disabled.
"""

from __future__ import annotations

import importlib
import time
import traceback
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from xml.etree import ElementTree

from attachguard.codes import ENGINE_ERROR, ENGINE_TIMEOUT, Code
from attachguard.engines.base import Child, Engine, Resources, Result
from attachguard.formats import ole, ooxml_xml, opc, pdfraw, wordfields, zipscan
from attachguard.pipeline import Scanner
from attachguard.policy import Policy, load_policy
from attachguard.registry import load_specs, route
from attachguard.report import FileType, Finding, Report, Status
from attachguard.scanner import build_scanner

from .mutations import Sample
from .seeds import Seed, members, seeds

# Engines fuzzed directly: every engine that parses content (clamav and moderation need
# services; their input is parsed by clamd and the moderation backend).
ENGINES = ("filetype", "office", "pdf", "rtf", "zip", "polyglot", "image", "text", "sensitive")
# No input may take this long (seconds) in one engine or one whole scan. The policy gives each
# engine 20 s; 5 s leaves room for this loaded 2-core machine while still catching a parser that
# goes quadratic or loops on a damaged length.
BOUND = 5.0


@dataclass(frozen=True)
class Outcome:
    """What one call did: its value, or the exception it raised, and how long it took."""

    value: object
    error: Exception | None
    seconds: float


def call(run: Callable[[Sample], object], sample: Sample) -> Outcome:
    start = time.perf_counter()
    try:
        value = run(sample)
    except Exception as exc:  # the fuzz property decides whether this one was allowed
        return Outcome(None, exc, time.perf_counter() - start)
    return Outcome(value, None, time.perf_counter() - start)


def call_timed(run: Callable[[Sample], object], sample: Sample) -> Outcome:
    """`call`, and once more when the first call passed `BOUND`: on this loaded machine a
    call can stall for seconds (a 1 ms PDF once took 2.3 s), and a stall does not repeat,
    while a parser that really is slow on the input is slow again."""
    outcome = call(run, sample)
    if outcome.seconds <= BOUND:
        return outcome
    again = call(run, sample)
    return again if again.seconds < outcome.seconds else outcome


def signature(error: BaseException) -> str:
    """An exception by type and the line that raised it: one entry per distinct bug."""
    frames = traceback.extract_tb(error.__traceback__)
    path = frames[-1].filename
    path = path.rpartition("site-packages/")[2] if "site-packages/" in path else path
    where = f"{path.rpartition('/src/')[2] if '/src/' in path else path}:{frames[-1].lineno}"
    return f"{type(error).__module__}.{type(error).__qualname__} at {where}"


@dataclass(frozen=True)
class Target:
    """One entry point: its seeds, how a sample is fed to it, and the exceptions it
    documents (anything else escaping it is a bug)."""

    name: str
    seeds: tuple[Seed, ...]
    run: Callable[[Sample], object]
    documented: tuple[type[Exception], ...] = ()
    check: Callable[[object], list[str]] = lambda value: []

    def escaped(self, outcome: Outcome) -> Exception | None:
        """The exception the call raised that it does not document, if any."""
        error = outcome.error
        return error if error is not None and not isinstance(error, self.documented) else None

    def failures(self, outcome: Outcome) -> list[str]:
        """Everything wrong with one call, one line each (the line names the bug, so that
        the same bug found twice gives the same line): an undocumented exception, a value
        that breaks the target's contract, more than `BOUND` seconds."""
        error = self.escaped(outcome)
        found = [f"raised {signature(error)}"] if error is not None else []
        if outcome.error is None:
            found += self.check(outcome.value)
        if outcome.seconds > BOUND:
            found.append(f"took more than {BOUND:g} s")
        return found

    def __repr__(self) -> str:
        return f"Target({self.name!r})"


# -- engines -----------------------------------------------------------------------------------


@cache
def policy() -> Policy:
    """The packaged policy with clamav disabled (no clamd here)."""
    return load_policy().model_copy(update={"disabled_engines": ["clamav"]})


@cache
def engine(name: str) -> Engine:
    built = load_specs()[name].build(policy().options(name), Resources())
    if built is None:
        raise LookupError(f"the {name} engine cannot be built here")
    return built


def engine_codes(name: str) -> frozenset[Code]:
    """The codes the engine's spec says it may report."""
    return frozenset(load_specs()[name].codes)


def engine_target(name: str, pool: Sequence[Seed] = ()) -> Target:
    """Engine ``name`` over the seeds (of ``pool``, else every seed) whose type routes to it."""
    specs = load_specs()
    chosen = tuple(seed for seed in pool or seeds() if name in route(specs, seed.type))
    context = policy().context()

    def run(sample: Sample) -> Result:
        return engine(name).scan(sample.item(), context)

    return Target(f"engine {name}", chosen, run, check=lambda value: result_problems(name, value))


def result_problems(name: str, value: object) -> list[str]:
    """What is wrong with an engine's return value (empty: nothing)."""
    if not isinstance(value, Result):
        return [f"returned {type(value).__name__}, not a Result"]
    problems = [f"finding {f!r} is not a Finding" for f in value.findings
                if not isinstance(f, Finding)]  # fmt: skip
    problems += [f"child {c!r} is not a Child with bytes" for c in value.children
                 if not (isinstance(c, Child) and isinstance(c.data, bytes))]  # fmt: skip
    declared = engine_codes(name)
    problems += [f"reported {f.code.name}, which its EngineSpec does not list" for f in
                 value.findings if isinstance(f, Finding) and f.code not in declared]  # fmt: skip
    return problems


# -- format readers ----------------------------------------------------------------------------

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
READERS = ("zipscan.inspect_zip", "zipscan.find_embedded_zip", "opc.analyse_package",
           "ooxml_xml.read_part", "wordfields.field_instructions", "ole.classify_ole",
           "ole.read_workbooks", "pdfraw.scan_pdf_objects")  # fmt: skip
# The media structure walkers (for the polyglot engine): name -> the seed labels they get. They
# document no exception. Imported when called: a walker the package does not have is skipped.
WALKERS = {
    "png.walk": ("png",),
    "jpeg.walk": ("jpeg",),
    "gif.walk": ("gif",),
    "bmff.walk": ("mp4", "qt", "heif"),
    "bmff.compressed_movies": ("mp4", "qt"),
    "riff.walk": ("wav", "webp"),
    "payloads.find_payload": ("jpeg", "png", "gif", "mp4", "qt", "heif", "wav", "pdf"),
}


def walker(name: str) -> Callable[[bytes], object]:
    """The function ``module.function`` of attachguard.formats (ImportError when missing)."""
    module, _, function = name.partition(".")
    found: Callable[[bytes], object] = getattr(
        importlib.import_module(f"attachguard.formats.{module}"), function
    )
    return found


def walker_target(name: str, pool: Sequence[Seed] = ()) -> Target:
    """The walker ``name`` (one of `WALKERS`) over the seeds of its formats."""
    labels = WALKERS[name]
    chosen = tuple(seed for seed in pool or seeds() if seed.type.label in labels)
    return Target(name, chosen, lambda sample: walker(name)(sample.data))


def _zip_like(seed: Seed) -> bool:
    return b"PK\x05\x06" in seed.data or b"PK\x03\x04" in seed.data


def reader_target(name: str) -> Target:
    """The reader ``name`` (one of `READERS`) over every seed of its format."""
    return next(target for target in reader_targets() if target.name == name)


def reader_targets(pool: Sequence[Seed] = ()) -> list[Target]:
    """The readers in attachguard.formats (`READERS`), each over the seeds of its format (from
    ``pool``, else every seed)."""
    pool = pool or seeds()
    limits = policy().limits
    zips = tuple(s for s in pool if _zip_like(s))
    ooxml = tuple(s for s in zips if s.type.label in ("docx", "xlsx", "pptx"))
    parts = tuple(part for s in ooxml for part in members(s))
    word = tuple(p for p in parts if p.name.startswith("word/") and p.name.endswith(".xml"))
    oles = tuple(s for s in pool if s.data.startswith(_OLE_MAGIC))
    pdfs = tuple(s for s in pool if b"%PDF-" in s.data[:1024])
    hosts = tuple(s for s in pool if s.type.group in ("image", "video", "audio"))
    return [
        Target("zipscan.inspect_zip", zips, lambda s: zipscan.inspect_zip(
            s.data, max_members=limits.max_members, max_expanded=limits.max_expanded_bytes)),
        Target("zipscan.find_embedded_zip", zips + hosts + pdfs,
               lambda s: zipscan.find_embedded_zip(s.data)),
        Target("opc.analyse_package", ooxml, lambda s: opc.analyse_package(s.data),
               (zipfile.BadZipFile,)),
        Target("ooxml_xml.read_part", parts, lambda s: ooxml_xml.read_part(s.data),
               (ooxml_xml.XmlRejected,)),
        Target("wordfields.field_instructions", word,
               lambda s: wordfields.field_instructions(s.data),
               (ElementTree.ParseError, wordfields.FieldLimitError)),
        Target("ole.classify_ole", oles, lambda s: ole.classify_ole(s.data), (ole.OleUnreadable,)),
        Target("ole.read_workbooks", oles, lambda s: ole.read_workbooks(s.data),
               (ole.OleUnreadable,)),
        Target("pdfraw.scan_pdf_objects", pdfs, lambda s: pdfraw.scan_pdf_objects(s.data)),
    ]  # fmt: skip


# -- the pipeline ------------------------------------------------------------------------------


@cache
def scanner() -> Scanner:
    """The whole pipeline: every engine but clamav, Magika detecting types."""
    return build_scanner(policy(), None)


class _Routed:
    """A detector that gives every file one type, so the pipeline routes a sample to the
    engines that were fuzzed with it."""

    def __init__(self, filetype: FileType) -> None:
        self.filetype = filetype

    def detect(self, data: bytes) -> FileType:
        return self.filetype


def scan(sample: Sample) -> Report:
    """The pipeline's verdict on ``sample``, its type detected from the damaged bytes."""
    return scanner().scan(sample.data, sample.seed.name)


def scan_routed(sample: Sample) -> Report:
    """The pipeline's verdict on ``sample`` typed as its seed (routed as it was fuzzed)."""
    with Scanner(policy(), scanner().engines, detector=_Routed(sample.seed.type)) as routed:
        return routed.scan(sample.data, sample.seed.name)


def pipeline_target(pool: Sequence[Seed] = ()) -> Target:
    return Target("pipeline", tuple(pool or seeds()), scan, check=report_problems)


def report_problems(report: object) -> list[str]:
    """What breaks fail-closed in a verdict: not a Report, an unknown status, or an engine
    that failed or timed out without the file being rejected."""
    if not isinstance(report, Report):
        return [f"returned {type(report).__name__}, not a Report"]
    if report.status not in (Status.APPROVED, Status.REJECTED):
        return [f"status {report.status!r}"]
    failed = [f for f in report.findings if f.code in (ENGINE_ERROR, ENGINE_TIMEOUT)]
    if failed and report.status is not Status.REJECTED:
        return [f"{failed[0].engine} failed ({failed[0].message}) yet the file is {report.status}"]
    return []


def engine_errors(report: Report) -> list[Finding]:
    """The ENGINE_ERROR findings of a verdict (engines that raised)."""
    return [f for f in report.findings if f.code == ENGINE_ERROR]


def all_targets(pool: Sequence[Seed] = ()) -> list[Target]:
    """Every target: the engines, the format readers, the pipeline."""
    engines = [engine_target(name, pool) for name in ENGINES]
    walkers = []
    for name in WALKERS:
        try:
            walker(name)
        except (ImportError, AttributeError):
            continue  # not in this version of the package
        walkers.append(walker_target(name, pool))
    return [*engines, *reader_targets(pool), *walkers, pipeline_target(pool)]
