"""The `fluxops` command line: the sandbox world today; the chat client comes with the Slack bot."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import yaml

from sandbox.arm.app import EmulatorConfig
from sandbox.runtime import Endpoints, Sandbox, SandboxOptions


def _options(args: argparse.Namespace) -> SandboxOptions:
    faults: list[dict[str, Any]] = []
    if args.faults:
        loaded = yaml.safe_load(Path(args.faults).read_text())
        faults = list((loaded or {}).get("faults", []))
    return SandboxOptions(
        state_dir=Path(args.state_dir) if args.state_dir else None,
        fleet=args.fleet,
        step_seconds=args.step_seconds,
        emulator=EmulatorConfig(
            time_scale=args.time_scale,
            operation_seconds=args.operation_seconds,
            throttling=not args.no_throttle,
            faults=faults,
        ),
    )


async def _serve(options: SandboxOptions, host: str, port: int, announce: Any) -> None:
    sandbox = Sandbox(options)
    endpoints = await sandbox.start(host, port)
    announce(sandbox, endpoints)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


def _announce_json(sandbox: Sandbox, endpoints: Endpoints) -> None:
    line = {
        "url": endpoints.arm_url,
        "ca_file": str(endpoints.ca_file),
        "subscription_id": endpoints.subscription_id,
    }
    print(json.dumps(line), flush=True)


def _announce_human(sandbox: Sandbox, endpoints: Endpoints) -> None:
    print("fluxops sandbox is up (Ctrl-C stops it)\n")
    print(f"  ARM emulator   {endpoints.arm_url}   (HTTPS, CA {endpoints.ca_file})")
    print(f"  subscription   {endpoints.subscription_id}\n")
    print("Clusters:")
    for cluster in sorted(sandbox.world.clusters.values(), key=lambda c: c.id.lower())[:20]:
        tags = ",".join(f"{k}={v}" for k, v in sorted(cluster.tags.items()))
        print(f"  {cluster.resource_group}/{cluster.name:<16} {cluster.cluster_type:<18} {tags}")
    if len(sandbox.world.clusters) > 20:
        print(f"  ... and {len(sandbox.world.clusters) - 20} more")
    print("\nPoint fluxops (or any Azure SDK client) at it:")
    print(f"  export AZURE_ARM_ENDPOINT={endpoints.arm_url}")
    print(f"  export AZURE_CA_BUNDLE={endpoints.ca_file}")
    print(f"  export AZURE_SUBSCRIPTION_IDS={endpoints.subscription_id}")
    print("\nThe tutorial, end to end:  fluxops sandbox demo", flush=True)


def _add_world_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--fleet", type=int, default=0, help="add N generated clusters (tags env/region/team)")
    p.add_argument("--time-scale", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--operation-seconds", type=float, default=0.3, help="how long ARM writes stay InProgress")
    p.add_argument("--step-seconds", type=float, default=0.7, help="pace of the simulated Flux agent")
    p.add_argument("--no-throttle", action="store_true", help="turn ARM throttling off")
    p.add_argument("--faults", help="YAML/JSON file with a 'faults' list (see sandbox/arm/faults.py)")
    p.add_argument("--state-dir", help="where repositories and certificates live (default: a temp dir)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fluxops", description="GitOps with Flux v2 on Azure, from chat.")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="the local world: emulated Azure, simulated Flux, git repos")
    actions = sandbox.add_subparsers(dest="action", required=True)
    arm = actions.add_parser("arm", help="the ARM emulator alone; prints one JSON line when ready")
    _add_world_flags(arm)
    up = actions.add_parser("up", help="bring the sandbox up and serve until Ctrl-C")
    _add_world_flags(up)
    demo = actions.add_parser("demo", help="the seed tutorial end to end against the sandbox")
    demo.add_argument("--quiet", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox" and args.action in ("arm", "up"):
        announce = _announce_json if args.action == "arm" else _announce_human
        asyncio.run(_serve(_options(args), args.host, args.port, announce))
        return 0
    if args.command == "sandbox" and args.action == "demo":
        from cli.demo import run_demo

        return run_demo(quiet=args.quiet)
    return 2


if __name__ == "__main__":
    sys.exit(main())
