"""Confinement for processes that decode audio: no filesystem, no network, no environment.

Every decode of stored or uploaded audio runs in a child started by `confined_command` with an empty
environment and only its input and output descriptors. The child calls `confine()` once it has loaded
its libraries, before it reads a byte of audio, and from then on the kernel refuses it:

- every path-based file access (Landlock, no rules: `secrets.env`, `/proc/self/environ`, other files),
  except reading and executing the one program it is about to `exec` and the system library directory
  (libc's) that the program's shared libraries are loaded from;
- TCP bind and connect (Landlock ABI 4), abstract UNIX sockets and signals outside its domain (ABI 6);
- creating any socket but AF_UNIX, and io_uring, which would bypass the socket filter (seccomp).

Both need no privilege (only `no_new_privs`), so they hold for an unprivileged service user. Where the
kernel lacks them the child still runs, and `confinement_gaps` names what is missing so the parent can
log it loudly; a piece the kernel claims to support but refuses to apply stops the child instead.

Run as `python -I -m recordings_service.audio.confine PROGRAM ARGS...` it confines itself and then
`exec`s PROGRAM (the ffmpeg binary) with ARGS and an empty environment.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import platform
import struct
import sys
import threading
from collections.abc import Sequence

logger = logging.getLogger(__name__)

_NR_LANDLOCK_CREATE_RULESET = 444  # the same on every architecture Landlock was added after
_NR_LANDLOCK_ADD_RULE = 445
_NR_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_ACCESS_FS_EXECUTE = 1 << 0
_ACCESS_FS_READ_FILE = 1 << 2
# Every filesystem right each Landlock ABI version knows: ABI 1 has 13, ABI 2 adds REFER, 3 TRUNCATE,
# 5 IOCTL_DEV. Handling a right with no rule granting it denies it everywhere.
_ACCESS_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_ACCESS_NET_BIND_TCP = 1 << 0
_ACCESS_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

_PR_SET_NO_NEW_PRIVS = 38
_PR_GET_SECCOMP = 21
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_KILL_PROCESS = 0x80000000
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_ALLOW = 0x7FFF0000
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_AF_UNIX = 1
_NR_IO_URING_SETUP = 425
# machine -> (AUDIT_ARCH, socket syscall number). Other architectures run without the socket filter.
_SECCOMP_ARCH = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}
_X32_SYSCALL_BIT = 0x40000000


_LD_SO_CACHE = "/etc/ld.so.cache"  # the dynamic loader's index of library paths

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(number: int, *args: int | bytes | None) -> int:
    # Variadic: every integer goes as a full register, so no upper bits are left undefined.
    return int(_libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) if isinstance(a, int) else a for a in args)))


def _prctl(option: int, *args: int | bytes) -> int:
    padded = [*args, *[0] * (4 - len(args))]
    return int(_libc.prctl(ctypes.c_int(option), *(ctypes.c_ulong(a) if isinstance(a, int) else a for a in padded)))


class ConfinementFailed(RuntimeError):
    """The kernel offers a confinement but refused to apply it; the child must not decode."""


def confined_command(args: Sequence[str]) -> list[str]:
    """The argument list that starts `python -I -m MODULE...` or, for a program path, execs it confined."""
    if args and args[0] == "-m":
        return [sys.executable, "-I", *args]
    return [sys.executable, "-I", "-m", __name__, *args]


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers, 0 when it offers none."""
    return max(0, _syscall(_NR_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION))


def _seccomp_filter() -> tuple[int, int] | None:
    arch = _SECCOMP_ARCH.get(platform.machine())
    if arch is None:
        return None
    # Fails with EINVAL where the kernel was built without seccomp.
    return arch if _prctl(_PR_GET_SECCOMP) >= 0 else None


def confinement_gaps() -> list[str]:
    """What this kernel cannot enforce on a decoding child; empty when it is fully confined."""
    gaps = []
    abi = landlock_abi()
    if abi == 0:
        gaps.append("Landlock is unavailable: the decoder can read any file the service user can")
    elif abi < 4:
        gaps.append(f"Landlock ABI {abi} < 4: the decoder can open TCP connections")
    if _seccomp_filter() is None:
        gaps.append("seccomp is unavailable: the decoder can open network sockets")
    return gaps


_warned = threading.Event()


def warn_if_unconfined() -> None:
    """Log, once per process, every confinement the kernel refuses; never degrade silently."""
    if _warned.is_set():
        return
    _warned.set()
    for gap in confinement_gaps():
        logger.warning("audio decoding is not fully confined", extra={"gap": gap})


def confine(*, executable: str | None = None) -> None:
    """Restricts this process for the rest of its life (and whatever it execs), as the module says."""
    if _prctl(_PR_SET_NO_NEW_PRIVS, 1) != 0:
        raise ConfinementFailed(f"no_new_privs: {os.strerror(ctypes.get_errno())}")
    abi = landlock_abi()
    if abi:
        _restrict_filesystem(abi, executable=executable)
    arch = _seccomp_filter()
    if arch is not None:
        _deny_sockets(*arch)


def _restrict_filesystem(abi: int, *, executable: str | None) -> None:
    fs = _ACCESS_FS_BY_ABI[max(v for v in _ACCESS_FS_BY_ABI if v <= abi)]
    net = _ACCESS_NET_BIND_TCP | _ACCESS_NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    # The struct grew with the ABI; an older kernel rejects a size it does not know.
    attr = struct.pack("<QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    ruleset = _syscall(_NR_LANDLOCK_CREATE_RULESET, attr, len(attr), 0)
    if ruleset < 0:
        raise ConfinementFailed(f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        if executable is not None:
            _allow(ruleset, executable, _ACCESS_FS_EXECUTE | _ACCESS_FS_READ_FILE)
            if os.path.isfile(_LD_SO_CACHE):
                _allow(ruleset, _LD_SO_CACHE, _ACCESS_FS_READ_FILE)
            for directory in _system_library_dirs():
                _allow(ruleset, directory, _ACCESS_FS_EXECUTE | _ACCESS_FS_READ_FILE)
        if _syscall(_NR_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise ConfinementFailed(f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)


def _system_library_dirs() -> set[str]:
    """The directories of the C library and the dynamic loader this process runs on: where the loader
    finds the shared libraries of a program it execs (the pip ffmpeg needs only libc's siblings)."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if os.path.basename(path).startswith(("libc.so", "ld-linux", "ld-musl")):
                found.add(os.path.dirname(os.path.realpath(path)))
    return found


def _allow(ruleset: int, path: str, rights: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = struct.pack("<Qi", rights, fd)  # struct landlock_path_beneath_attr is packed
        if _syscall(_NR_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, rule, 0) != 0:
            raise ConfinementFailed(f"landlock_add_rule: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def _deny_sockets(audit_arch: int, socket_nr: int) -> None:
    """A seccomp filter: only AF_UNIX sockets; no io_uring; no syscalls of another ABI (x32, i386)."""
    deny = _SECCOMP_RET_ERRNO | errno.EACCES
    program = [
        (_BPF_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_BPF_JEQ_K, 1, 0, audit_arch),
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_KILL_PROCESS),
        (_BPF_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (_BPF_JGE_K, 6, 0, _X32_SYSCALL_BIT),
        (_BPF_JEQ_K, 5, 0, _NR_IO_URING_SETUP),
        (_BPF_JEQ_K, 0, 3, socket_nr),
        (_BPF_LD_W_ABS, 0, 0, 16),  # the low word of seccomp_data.args[0], the address family
        (_BPF_JEQ_K, 1, 0, _AF_UNIX),
        (_BPF_RET_K, 0, 0, deny),
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
        (_BPF_RET_K, 0, 0, deny),
    ]
    code = b"".join(struct.pack("<HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = struct.pack("<HxxxxxxQ", len(program), ctypes.addressof(buffer))
    if _prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, fprog) != 0:
        raise ConfinementFailed(f"seccomp: {os.strerror(ctypes.get_errno())}")


def main(argv: list[str]) -> int:
    program = os.path.realpath(argv[0])
    confine(executable=program)
    os.execve(program, [program, *argv[1:]], {})  # noqa: S606 - an argument list, never a shell
    return 127  # not reached: execve replaces this process or raises


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
