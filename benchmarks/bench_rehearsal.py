"""A rehearsal of thousands of teams against the strict Discord double: nothing refused.

Run: .venv/bin/python benchmarks/bench_rehearsal.py [--teams 2000] [--baseline 50] [--active 20]

Both runs play config/demo.toml through the real bot (`hackbot run` in a subprocess) against the
local Discord double, strict as Discord is (bot/sandbox): teams of one form with /team create,
the first `--active` teams reveal and submit, the organizers announce the winners (most teams
tie at the default scores, so the announcement is long). Past the double's 500 channels the
team spaces must be private threads, past 250 roles teams must do without a role, the winners
must fit Discord's messages, and the bot must keep under the global 50 requests a second.

Reported: teams formed, interactions, refused Discord requests (must be 0), failed
interactions (must be 0), team spaces in threads, the server's channels and roles, the
winners' messages and teams pinged, and the time a team takes to form (its /team create
answered, its role and channel or thread made) at `--teams` as a ratio of the time it takes in
the `--baseline` run measured alongside (1.0: the cost per team does not grow with the event).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.sandbox.rehearse import rehearse

DEMO = Path(__file__).resolve().parents[1] / "config" / "demo.toml"


def run(teams: int, active: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(rehearse(DEMO, Path(tmp), speed=None, teams=teams, size=1, active=active,
                                    say=lambda text: None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=2000)
    parser.add_argument("--baseline", type=int, default=50)
    parser.add_argument("--active", type=int, default=20, help="teams that reveal and submit")
    args = parser.parse_args()
    print(f"config/demo.toml, teams of one, {args.active} active; baseline {args.baseline} teams, then {args.teams}")
    print("| teams | wall s | interactions | refused | failed | in threads | channels | roles | "
          "winners messages | pinged | s to form a team |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    per_team = {}
    refused = 0
    for teams in (args.baseline, args.teams):
        report = run(teams, min(args.active, teams))
        acts = report["acts"]
        per_team[teams] = acts["teams"]["seconds"] / teams
        refused += len(report["refused_discord_requests"]) + len(report["failed"])
        print(f"| {teams} | {report['wall_time_s']:.0f} | {report['interactions']} | "
              f"{len(report['refused_discord_requests'])} | {len(report['failed'])} | {acts['teams']['in_threads']} | "
              f"{acts['teams']['server_channels']} | {acts['teams']['server_roles']} | "
              f"{acts['winners']['messages']} | {acts['winners']['teams_pinged']} | {per_team[teams]:.3f} |")
        for request in report["refused_discord_requests"][:10]:
            print(f"  refused: {request['route']} {request['status']} {request['code']}: {request['reason']}")
    print(f"time per team at {args.teams} / at {args.baseline}: {per_team[args.teams] / per_team[args.baseline]:.2f}x")
    sys.exit(1 if refused else 0)


if __name__ == "__main__":
    main()
