"""Compare this checkout with another one on the answer-path budgets, runs interleaved.

On a shared machine the load moves by the minute, so two versions measured one after the other
are not comparable. This runs them in turn (A B, B A, ...), each on its own database and cache
directory, and prints the median of each:

    python benchmarks/compare.py OTHER_CHECKOUT answers 5   # in-process ratio (answer_path.py)
    python benchmarks/compare.py OTHER_CHECKOUT cold 11     # `clusterbot ask "who leads WASH"`
    python benchmarks/compare.py OTHER_CHECKOUT batch 5     # `ask --json -`, 1,000 questions
    python benchmarks/compare.py OTHER_CHECKOUT ping 3      # the same with 1,000 `/ping`

OTHER_CHECKOUT is a worktree of another commit (`git worktree add --detach DIR COMMIT`, then
`pybabel compile -d DIR/templates/locale`); both run on this checkout's virtualenv, the code
taken from each checkout through PYTHONPATH (`answers`: both timed by this checkout's
benchmarks/answer_path.py).
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "benchmarks"))


def main() -> None:
    other, kind, n = Path(sys.argv[1]).resolve(), sys.argv[2], int(sys.argv[3])
    trees = {"other": other, "this": HERE}
    sys.path.insert(0, str(HERE))
    from answer_path import questions, time_cli

    items = questions()
    lines = "\n".join(items[i % len(items)] for i in range(1000)) + "\n"
    results: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:

        def run(name: str, args: list[str], stdin: str = "") -> float:
            env = {
                **os.environ,
                "PYTHONPATH": str(trees[name]),
                "CLUSTERBOT_CACHE_DIR": f"{tmp}/cache-{name}",
                "CLUSTERBOT_DATABASE_URL": f"sqlite:///{tmp}/{name}.db",
            }
            if kind == "answers":
                code = "import answer_path as a; a.in_process(a.questions())"
                # Both timed by this checkout's benchmark: one ruler for the two versions.
                env["PYTHONPATH"] += os.pathsep + str(HERE / "benchmarks")
                out = subprocess.run(
                    [sys.executable, "-c", code],
                    cwd=trees[name],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                return float(re.findall(r"ratio full/baseline: median ([\d.]+)x", out)[0])
            return time_cli(args, env, tmp, stdin)

        if kind != "answers":
            for name in trees:  # databases migrated, caches built
                run(name, ["ask", "--json", "-"], lines)
        for i in range(n):
            for name in trees if i % 2 == 0 else reversed(list(trees)):
                if kind == "cold":
                    results[name].append(run(name, ["ask", "who leads WASH"]))
                elif kind == "batch":
                    results[name].append(run(name, ["ask", "--json", "-"], lines))
                elif kind == "ping":
                    results[name].append(run(name, ["ask", "--json", "-"], "/ping\n" * 1000))
                else:
                    results[name].append(run(name, []))
    unit = "x" if kind == "answers" else " s"
    for name, values in results.items():
        print(
            f"{kind} {name} ({trees[name]}): median {statistics.median(values):.2f}{unit}"
            f"  runs {', '.join(f'{v:.2f}' for v in values)}"
        )


if __name__ == "__main__":
    main()
