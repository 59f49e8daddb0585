#!/usr/bin/env python3
"""Checks the Debian packages `cpack -G DEB` made (zpat and zpat-dev), as an installer and an
operator meet them.

Usage: check_deb.py BUILD_DIR (a build of the `release` preset, after cpack). It reads the
packages' control data and contents, extracts both into a scratch root, runs the packaged broker
there on ephemeral loopback ports with the packaged config file and a notify socket standing in
for systemd, calls it with the packaged zpat, and builds a program against the packaged
libraries with CMake and with pkg-config. Exits 1 naming each failed check."""

import glob
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

LIMIT = 10.0
build = os.path.abspath(sys.argv[1])
source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def check(what, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'}  {what}" + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(what)


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def one(pattern):
    found = glob.glob(os.path.join(build, pattern))
    if len(found) != 1:
        sys.exit(f"expected one {pattern} in {build}, found {found}")
    return found[0]


# Two packages, as Debian splits a library: zpat runs, zpat-dev builds against it.
deb, dev = one("zpat_*.deb"), one("zpat-dev_*.deb")
info = run("dpkg-deb", "--info", deb).stdout
depends = re.search(r"^ Depends: (.*)$", info, re.M)
check("the package depends on the shared libraries it links",
      depends is not None and all(name in depends.group(1)
                                  for name in ("libzmq5", "libsodium23", "libsystemd0", "libspdlog")),
      depends.group(1) if depends else info)
check("the config file is a conffile (an upgrade keeps the operator's edits)",
      "/etc/zpat/zpat-broker.toml" in run("dpkg-deb", "-I", deb, "conffiles").stdout,
      info)
version = run("dpkg-deb", "--field", deb, "Version").stdout.strip()
dev_depends = run("dpkg-deb", "--field", dev, "Depends").stdout
check("zpat-dev depends on zpat at its own version, and on the headers its headers include",
      f"zpat (= {version})" in dev_depends and "libmsgpack-cxx-dev" in dev_depends, dev_depends)

listing = run("dpkg-deb", "--contents", deb).stdout
dev_listing = run("dpkg-deb", "--contents", dev).stdout
arch_lib = "usr/lib/" + run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").stdout.strip()
for path in ["usr/bin/zpat", "usr/bin/zpat-broker",
             f"{arch_lib}/libzpat_patterns.so.0.1.0", f"{arch_lib}/libzpat_broker.so.0.1.0",
             f"{arch_lib}/libzpat_patterns.so.0", "usr/share/man/man1/zpat.1.gz",
             "usr/share/man/man1/zpat-broker.1.gz", "usr/lib/systemd/system/zpat-broker.service",
             "etc/zpat/zpat-broker.toml", "usr/share/doc/zpat/LICENSE"]:
    check(f"zpat holds /{path}", f" ./{path}" in listing, "not in dpkg-deb --contents")
for path in [f"{arch_lib}/libzpat_patterns.so", f"{arch_lib}/libzpat_broker.so",
             f"{arch_lib}/pkgconfig/zpat.pc", f"{arch_lib}/pkgconfig/zpat-broker.pc",
             f"{arch_lib}/cmake/zpat/zpatConfig.cmake", "usr/include/zpat/zpat.hpp",
             "usr/include/zpat/broker/broker.hpp", "usr/share/doc/zpat-dev/LICENSE"]:
    check(f"zpat-dev holds /{path}", f" ./{path}" in dev_listing, "not in dpkg-deb --contents")


def paths(contents):
    """The paths a dpkg-deb --contents listing names (a link's own name, not its target)."""
    return [line.split(" ./", 1)[1].split(" -> ")[0] for line in contents.splitlines()
            if " ./" in line]


runtime_only = [p for p in paths(listing) if re.search(r"^usr/include/|\.so$|pkgconfig/|cmake/", p)]
check("zpat holds nothing only a build needs (headers, link names, CMake or pkg-config files)",
      not runtime_only, runtime_only)
dev_only = [p for p in paths(dev_listing) if re.search(r"^usr/bin/.|\.so\.[0-9]|systemd/|^etc/.", p)]
check("zpat-dev holds no programs, shared objects or system files", not dev_only, dev_only)

root = tempfile.mkdtemp(prefix="zpat-deb-")
try:
    run("dpkg-deb", "-x", deb, root)
    run("dpkg-deb", "-x", dev, root)
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, arch_lib))
    broker, zpat = os.path.join(root, "usr/bin/zpat-broker"), os.path.join(root, "usr/bin/zpat")
    config = os.path.join(root, "etc/zpat/zpat-broker.toml")

    # Man pages: made from --help, so every long flag of it is on the page.
    for program in (broker, zpat):
        name = os.path.basename(program)
        page = gzip.open(os.path.join(root, f"usr/share/man/man1/{name}.1.gz"), "rt").read()
        helped = run(program, "--help-all" if name == "zpat" else "--help", env=env).stdout
        flags = set(re.findall(r"--[a-z][a-z-]+", helped))
        missing = [f for f in flags if f.replace("-", "\\-") not in page]
        check(f"{name}(1) has every flag of its --help ({len(flags)})", flags and not missing,
              missing)

    # The packaged unit starts the packaged broker with the packaged config.
    unit = open(os.path.join(root, "usr/lib/systemd/system/zpat-broker.service")).read()
    check("the unit runs /usr/bin/zpat-broker --config /etc/zpat/zpat-broker.toml as Type=notify",
          "ExecStart=/usr/bin/zpat-broker --config /etc/zpat/zpat-broker.toml" in unit
          and "Type=notify" in unit, unit)
    # systemd reads it without a complaint (an unknown key is only a warning, so any output
    # fails), and its hardening keeps the exposure systemd estimates low. The copy runs the
    # extracted broker, which the machine has not installed.
    copy = os.path.join(root, "zpat-broker.service")
    with open(copy, "w") as f:
        f.write(unit.replace("/usr/bin/zpat-broker", broker))
    verify = run("systemd-analyze", "verify", "--man=no", copy)
    check("systemd-analyze verify reads the unit without a complaint",
          verify.returncode == 0 and not (verify.stdout + verify.stderr).strip(),
          verify.stdout + verify.stderr)
    security = run("systemd-analyze", "security", "--offline=yes", copy)
    exposure = re.search(r"Overall exposure level for zpat-broker.service: ([0-9.]+)",
                         security.stdout)
    check("systemd rates the unit's exposure at most 2.0 of 10",
          exposure is not None and float(exposure.group(1)) <= 2.0,
          exposure.group(0) if exposure else security.stdout + security.stderr)

    # The config file reads back to the defaults: every key commented out, all valid.
    from_file = run(broker, "--config", config, "--check-config", env=env)
    defaults = run(broker, "--check-config", env=env)
    check("the packaged config file parses and holds the defaults",
          from_file.returncode == 0 and from_file.stdout == defaults.stdout, from_file.stderr)

    # The packaged broker serves, on ephemeral ports, and says READY=1 to its service manager.
    notify = os.path.join(root, "notify")
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(notify)
    manager.settimeout(LIMIT)
    anywhere = "tcp://127.0.0.1:*"
    process = subprocess.Popen(
        [broker, "--config", config, "--service-endpoint", anywhere, "--stats-endpoint", anywhere,
         "--forwarder-frontend", anywhere, "--forwarder-backend", anywhere,
         "--streamer-frontend", anywhere, "--streamer-backend", anywhere],
        env=dict(env, NOTIFY_SOCKET=notify), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    try:
        ready = manager.recv(4096).decode()
        check("the packaged broker tells systemd it is ready", "READY=1" in ready, ready)
        service = None
        for line in process.stderr:
            found = re.search(r"service broker \(Majordomo MDP/0.1\) on (\S+)", line)
            if found:
                service = found.group(1)
                break
        answer = run(zpat, "call", service, "mmi.service", "echo", "-q", "--timeout", "5s",
                     env=env)
        check("the packaged zpat calls the packaged broker", answer.stdout.strip() == "404",
              (answer.returncode, answer.stdout, answer.stderr))
    finally:
        process.terminate()
        check("the packaged broker stops on SIGTERM, exit 0", process.wait(timeout=LIMIT) == 0)

    # Another project builds against the packaged headers and libraries.
    prefix = os.path.join(root, "usr")
    consumer = os.path.join(source, "tests/package/consumer")
    work = os.path.join(root, "consumer")
    steps = [run("cmake", "-S", consumer, "-B", work, f"-DCMAKE_PREFIX_PATH={prefix}")]
    steps.append(run("cmake", "--build", work))
    steps.append(run(os.path.join(work, "consumer"), env=env))
    check("a CMake project builds and runs against the package (find_package(zpat))",
          all(s.returncode == 0 for s in steps), [s.stdout + s.stderr for s in steps][-1])
    pc = dict(os.environ, PKG_CONFIG_PATH=os.path.join(root, arch_lib, "pkgconfig"))
    flags = run("pkg-config", "--cflags", "--libs", "zpat-broker", env=pc)
    built = run("c++", "-std=c++20", os.path.join(consumer, "main.cpp"), *flags.stdout.split(),
                "-o", os.path.join(root, "consumer-pc"))
    ran = run(os.path.join(root, "consumer-pc"), env=env) if built.returncode == 0 else built
    check("a program builds and runs against the package with pkg-config alone",
          flags.returncode == 0 and built.returncode == 0 and ran.returncode == 0,
          flags.stderr + built.stderr + ran.stderr)
finally:
    shutil.rmtree(root)

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("the package installs, runs and links")
