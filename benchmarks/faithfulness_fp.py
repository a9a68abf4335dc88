"""False and true positives of the faithfulness checks (summarizer.text.faithfulness).

    python benchmarks/faithfulness_fp.py
    python benchmarks/faithfulness_fp.py --extra-dir DIR --extra-summaries FILE

Reads benchmarks/faithfulness_samples.jsonl: French news articles (the reference pairs of
docs/example-references.jsonl, the test articles of tests/conftest.py and articles written for
this benchmark), each with a correct French summary and its English translation. Every check runs
on every correct summary against the French article as the summariser reads it (title, when there
is one, and text); the English summary too, as the job has no English source for it. The
reference translations of docs/example-references.jsonl are checked as well, reported apart.

Prints, per check and over all checks, the share of correct summaries flagged (false positives),
and each false positive with its values, then the share of automatically corrupted summaries that
are flagged (true positives: the first number's last digit changed, one name found in the source
misspelt by one letter, the first weekday or month replaced by the next one), and each corrupted
summary missed: often the corrupted value also occurs in the source.

``--extra-dir`` adds articles from a folder (``NAME.txt``) whose summaries are in
``--extra-summaries``, a JSON Lines file of ``{"file": NAME.txt, "summary_fr": ..., "summary_en":
...}``: for articles that may not be copied into this repository. They are reported separately.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path

from summarizer.flags import FAITHFULNESS_FLAGS, NUMBER_MISMATCH, UNSUPPORTED_DATE, UNSUPPORTED_NAME
from summarizer.text.faithfulness import faithfulness_findings

SAMPLES = Path(__file__).with_name("faithfulness_samples.jsonl")
FLAGS = FAITHFULNESS_FLAGS
DATE_CYCLES = [
    "lundi mardi mercredi jeudi vendredi samedi dimanche".split(),
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    "January February March April May June July August September October November December".split(),
]
VOWELS, CONSONANTS = "aeiou", "bcdfgklmnprstvz"
# A capitalised word after a lower-case word or a comma: not at the start of a sentence.
NAME_INSIDE_SENTENCE = re.compile(r"(?<=[a-zà-ÿ,] )([A-ZÀ-Ý][a-zà-ÿ]{3,})\b")


def load_samples(extra_dir: Path | None, extra_summaries: Path | None) -> dict[str, list[dict]]:
    groups = {"repository samples": [json.loads(line) for line in SAMPLES.open(encoding="utf-8")]}
    if extra_dir:
        if not extra_summaries:
            raise SystemExit("--extra-dir needs --extra-summaries")
        rows = []
        for line in extra_summaries.open(encoding="utf-8"):
            row = json.loads(line)
            row["text"] = (extra_dir / row["file"]).read_text(encoding="utf-8")
            rows.append({"id": row["file"], **row})
        groups[f"extra articles ({extra_dir})"] = rows
    return groups


def generated_texts(sample: dict) -> list[tuple[str, str, str]]:
    """(kind, language, text) for the correct outputs of one sample."""
    texts = [("summary_fr", "fr", sample["summary_fr"]), ("summary_en", "en", sample["summary_en"])]
    if sample.get("translation_en"):
        texts.append(("translation_en", "en", sample["translation_en"]))
    return texts


def source_of(sample: dict) -> str:
    return f"{sample['title']}\n{sample['text']}" if sample.get("title") else sample["text"]


def findings(text: str, sample: dict, language: str) -> dict[str, list[str]]:
    return faithfulness_findings(
        text, source_of(sample), generated_language=language, source_language="fr"
    )


def false_positives(samples: list[dict]) -> None:
    counts: dict[str, Counter] = {}
    shown = []
    for sample in samples:
        for kind, language, text in generated_texts(sample):
            found = findings(text, sample, language)
            count = counts.setdefault(kind, Counter())
            count["texts"] += 1
            count["any"] += bool(found)
            count.update(found.keys())
            shown.extend(
                f"  {sample['id']} {kind}: {flag} {values}" for flag, values in found.items()
            )
    summaries = counts.get("summary_fr", Counter()) + counts.get("summary_en", Counter())
    rows = [("summaries (fr+en)", summaries)] + sorted(counts.items())
    print(f"  {'':22}{'texts':>6}" + "".join(f"{flag:>18}" for flag in FLAGS) + f"{'any flag':>12}")
    for name, count in rows:
        total = count["texts"]
        cells = "".join(f"{rate(count[flag], total):>18}" for flag in FLAGS)
        print(f"  {name:22}{total:>6}{cells}{rate(count['any'], total):>12}")
    print("  false positives:" if shown else "  no false positives")
    print("\n".join(shown))


def rate(hits: int, total: int) -> str:
    return f"{hits}/{total} {hits / total:.1%}" if total else "-"


def corrupt_number(text: str, source: str) -> str | None:
    """Change the last digit of the first number."""
    match = re.search(r"[0-9]+", text)
    if not match:
        return None
    digits = match.group()
    wrong = digits[:-1] + str((int(digits[-1]) + 3) % 10)
    return text[: match.start()] + wrong + text[match.end() :]


def corrupt_name(text: str, source: str) -> str | None:
    """Misspell one letter in the middle of the first name inside a sentence that the source has."""
    for match in NAME_INSIDE_SENTENCE.finditer(text):
        name = match.group(1)
        if name not in source:
            continue
        middle = len(name) // 2
        letters = VOWELS if name[middle] in VOWELS else CONSONANTS
        replacement = letters[(letters.find(name[middle]) + 1) % len(letters)]
        wrong = name[:middle] + replacement + name[middle + 1 :]
        return text[: match.start(1)] + wrong + text[match.end(1) :]
    return None


def corrupt_date(text: str, source: str) -> str | None:
    """Replace the first weekday or month by the next one."""
    for cycle in DATE_CYCLES:
        pattern = r"\b(%s)\b" % "|".join(cycle)
        match = re.search(pattern, text)
        if match:
            following = cycle[(cycle.index(match.group(1)) + 1) % len(cycle)]
            return text[: match.start()] + following + text[match.end() :]
    return None


def true_positives(samples: list[dict]) -> None:
    corruptions = (
        (NUMBER_MISMATCH, corrupt_number),
        (UNSUPPORTED_NAME, corrupt_name),
        (UNSUPPORTED_DATE, corrupt_date),
    )
    missed = []
    for flag, corrupt in corruptions:
        caught = any_flag = total = 0
        for sample in samples:
            for kind, language, text in generated_texts(sample)[:2]:
                wrong = corrupt(text, source_of(sample))
                if wrong is None or wrong == text:
                    continue
                found = findings(wrong, sample, language)
                total += 1
                caught += flag in found
                any_flag += bool(found)
                if flag not in found:
                    missed.append(f"  {flag}: {sample['id']} {kind}: {wrong!r}")
        print(f"  {flag:18} caught {rate(caught, total):>14}   any flag {rate(any_flag, total)}")
    print("  missed:" if missed else "  nothing missed")
    print("\n".join(missed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extra-dir", type=Path, help="folder of extra articles (NAME.txt)")
    parser.add_argument("--extra-summaries", type=Path, help="JSON Lines summaries of those")
    args = parser.parse_args()
    for group, samples in load_samples(args.extra_dir, args.extra_summaries).items():
        started = time.perf_counter()
        print(f"== {group}: {len(samples)} articles")
        print("-- false positives (correct outputs flagged)")
        false_positives(samples)
        print("-- true positives (corrupted summaries flagged)")
        true_positives(samples)
        print(f"({time.perf_counter() - started:.2f} s)\n")


if __name__ == "__main__":
    main()
