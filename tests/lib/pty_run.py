#!/usr/bin/python3
"""Runs a command with a pseudo-terminal as its controlling terminal (so
/dev/tty is the pty) while its stdin, stdout and stderr are files, plays the
person at that terminal, and reports what happened.

usage: pty_run.py IN OUT ERR TRANSCRIPT ACTION -- CMD...

ACTION is "answer:<text>" (type text and Enter once "PIN: " shows),
"interrupt" (press Ctrl-C once "PIN: " shows), "dialog:<text>" (type text
and Enter once a full-screen pinentry has drawn "PIN:" and gone quiet for
half a second) or "none" (just watch).
Everything the command wrote to the terminal goes to TRANSCRIPT. Prints one
line: "prompt=<seen|none> echo_at_prompt=<on|off|-> rc=<exit status, or
-signal> echo_after=<on|off>", echo_after being the terminal's ECHO flag
once the command has ended (a prompt must leave the terminal as it was).
Fails (exit 1) on a timeout of 60 seconds.
"""
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

fin, fout, ferr, ftrans, action = sys.argv[1:6]
assert sys.argv[6] == "--"
cmd = sys.argv[7:]
status_r, status_w = os.pipe()

pid, master = pty.fork()
if pid == 0:
    # The session leader on the pty: it outlives the command (which gets
    # the default SIGINT back) to read the terminal's state afterwards.
    os.close(status_r)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with open(fin, "rb") as i, open(fout, "wb") as o, open(ferr, "wb") as e:
        p = subprocess.Popen(cmd, stdin=i, stdout=o, stderr=e,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        rc = p.wait()
    lflag = termios.tcgetattr(0)[3]
    os.write(status_w, b"rc=%d echo_after=%s" % (rc, b"on" if lflag & termios.ECHO else b"off"))
    os._exit(0)

os.close(status_w)
transcript = b""
prompt, echo_at = "none", "-"
deadline = time.time() + 60
while True:
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        print("timeout; transcript: %r" % transcript)
        sys.exit(1)
    r, _, _ = select.select([master], [], [], 0.5)
    if not r:
        if action.startswith("dialog:") and prompt == "none" and b"PIN:" in transcript:
            prompt = "seen"
            os.write(master, action[7:].encode() + b"\r")
        continue
    try:
        data = os.read(master, 4096)
    except OSError:
        data = b""
    if not data:
        break
    transcript += data
    if prompt == "none" and b"PIN: " in transcript and not action.startswith("dialog:"):
        prompt = "seen"
        echo_at = "on" if termios.tcgetattr(master)[3] & termios.ECHO else "off"
        if action.startswith("answer:"):
            os.write(master, action[7:].encode() + b"\n")
        elif action == "interrupt":
            os.write(master, b"\x03")
os.waitpid(pid, 0)
status = os.read(status_r, 200).decode()
open(ftrans, "wb").write(transcript)
print("prompt=%s echo_at_prompt=%s %s" % (prompt, echo_at, status))
