#!/usr/bin/env python3
"""chroot_run.py ROOT WORKDIR UID:GID CMD...: run CMD in ROOT as UID:GID from WORKDIR.

What a container runtime does with an image's WorkingDir and User, which GNU chroot cannot
(it always starts in /). Used by deploy/ci/images.sh inside its private mount namespace.
"""
import os
import sys

root, workdir, user, *cmd = sys.argv[1:]
uid, gid = (int(x) for x in user.split(":"))
os.chroot(root)
os.chdir(workdir)
os.setgroups([])
os.setgid(gid)
os.setuid(uid)
os.execve(cmd[0], cmd, {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"})
