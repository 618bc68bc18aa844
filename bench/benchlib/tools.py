"""Building the servers, the binaries a run uses, and the load generator."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

from . import common
from .common import ROOT, TARGET, WORK, log, run_cmd


def build(profile):
    run_cmd(["cargo", "build", "--profile", profile, "--bin", "postbase"], cwd=ROOT)
    if re.search(r'members\s*=\s*\[[^\]]*"bench/bare"', (ROOT / "Cargo.toml").read_text()):
        run_cmd(["cargo", "build", "--profile", profile, "-p", "postbase-bare-ref"], cwd=ROOT)
    else:  # root not (yet) a workspace: build the package on its own, same target dir
        env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
        run_cmd(["cargo", "build", "--profile", profile, "--manifest-path",
                 str(ROOT / "bench" / "bare" / "Cargo.toml")], cwd=ROOT, env=env)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk not found: installing it with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    apt = sudo + ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-q"]
    if subprocess.run(apt + ["install", "wrk"], env=env).returncode != 0:
        run_cmd(apt + ["update"], env=env)
        run_cmd(apt + ["install", "wrk"], env=env)
    if not shutil.which("wrk"):
        sys.exit("wrk is required (apt-get install wrk)")



def use_binaries(args, servers):
    """Point common.POSTBASE_BIN / BARE_BIN at the --profile's build (building it first unless
    --no-build), then at copies of it, so that a rebuild during the run cannot mix two builds in one
    table. Returns when each was built and a short SHA-256 of it, for results.json."""
    common.BARE_READS = args.bare_reads
    bin_dir = TARGET / ("debug" if args.profile == "dev" else "release")
    common.POSTBASE_BIN, common.BARE_BIN = bin_dir / "postbase", bin_dir / "postbase-bare-ref"
    if not args.no_build:
        build(args.profile)
    binaries = {}
    for kind, binary in (("postbase", common.POSTBASE_BIN), ("bare", common.BARE_BIN)):
        if kind in servers and not binary.exists():
            sys.exit(f"{binary} is missing: build it first")
    (WORK / "bin").mkdir(exist_ok=True)
    for name in ("POSTBASE_BIN", "BARE_BIN"):
        src = getattr(common, name)
        if src.exists():
            dst = WORK / "bin" / src.name
            shutil.copy2(src, dst)
            setattr(common, name, dst)
            binaries[src.name] = {"built": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(src.stat().st_mtime)),
                                  "sha256": hashlib.sha256(dst.read_bytes()).hexdigest()[:16]}
    return binaries
