"""Write docs/checks.md from the check registry, so the reference cannot drift.

python docs/gen_checks.py           rewrite docs/checks.md
python docs/gen_checks.py --check   exit 1 if docs/checks.md is stale
"""

from __future__ import annotations

import pathlib
import sys

from pytest_upgrade.checks.catalogue import REGISTRY
from pytest_upgrade.checks.registry import Phase
from pytest_upgrade.protocols import TOKENS

TARGET = pathlib.Path(__file__).with_name("checks.md")

PHASES = {
    Phase.ALWAYS: "always",
    Phase.REFUSAL: "from the deadline, or on any 426",
    Phase.ENFORCED: "from the deadline",
    Phase.ANNOUNCED: "before the deadline only",
    Phase.GATED: "with a deadline, before and after it",
}
ORDER = list(TOKENS)


def render() -> str:
    lines = [
        "# Check reference",
        "",
        "Generated from the plugin's check registry by `python docs/gen_checks.py`;"
        " do not edit by hand. Ids are public and stable: use them with"
        " `--upgrade-checks` / `--upgrade-skip-checks`, and find them in reports.",
        "",
        "Severity: **must** fails the test; **should** warns (fails under"
        " `--upgrade-strict`); **info** never fails. A check that could not run is"
        " skipped with its reason, never passed; a check that raised is an error of"
        " its requirement. *When* says how a requirement's"
        " deadline (`after=`) affects it.",
        "",
        "| id | severity | requirements | when | rule | RFC |",
        "|---|---|---|---|---|---|",
    ]
    for check in REGISTRY.values():
        protocols = ", ".join(f"`{p}`" for p in ORDER if p in check.protocols)
        lines.append(
            f"| `{check.id}` | {check.severity.value} | {protocols} | {PHASES[check.phase]}"
            f" | {check.rule} | {check.rfc} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is stale: run python docs/gen_checks.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
