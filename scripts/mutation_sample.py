"""Draw a seeded random sample of the not-yet-checked mutants of some modules.

    mutmut results --all true > results.txt
    python scripts/mutation_sample.py results.txt 40 fabcity.directory.writer fabcity.storage.stamps ...

reads mutmut's own listing, keeps each module's mutants still "not checked", sorts their names and
draws `random.Random(2026).sample(names, n)` for each module on its own (all of them when it has
fewer). It prints the names round-robin, the first of every module's sample, then the second, ...:
any prefix of the output is still a random sample of each module. docs/mutation-testing.md says
how the figures were drawn with it.
"""

import random
import sys

SEED = 2026


def not_checked(listing: str, module: str) -> list[str]:
    names = []
    for line in listing.splitlines():
        name, _, status = line.strip().partition(": ")
        if status == "not checked" and name.startswith(module + ".x"):
            names.append(name)
    return sorted(names)


def main() -> None:
    path, n, modules = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with open(path, encoding="utf-8") as f:
        listing = f.read()
    samples = []
    for module in modules:
        names = not_checked(listing, module)
        samples.append(random.Random(SEED).sample(names, min(n, len(names))))
    for i in range(max(map(len, samples), default=0)):
        for sample in samples:
            if i < len(sample):
                print(sample[i])


if __name__ == "__main__":
    main()
