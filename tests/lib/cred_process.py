#!/usr/bin/python3
"""A credential_process for the tests: cred_process.py MODE [ARG...].

Writes what it was given to argv.json beside itself (its arguments, its
open descriptors, what stdin is, CP_MARK from the environment), then acts
by MODE, with the signer's keys from the AWS mock's setup file named by
CP_SETUP:
  good      Version 1 JSON, Expiration in an hour
  noexp     Version 1 JSON without Expiration or SessionToken
  expiring  Expiration in 5 s; counts its runs in runs.txt
  expired   Expiration a minute ago
  v2        "Version": 2
  badjson   not JSON
  trailing  a good object followed by more text
  nokeys    Version 1 without SecretAccessKey
  fail      two lines on stderr (the first naming a fake secret), exit 3
  slow      writes its pid to slow.pid, then sleeps a minute
  huge      200 KB of output
"""
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
mode = sys.argv[1] if len(sys.argv) > 1 else "good"
fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
with open(os.path.join(here, "argv.json"), "w") as f:
    json.dump({"argv": sys.argv[1:], "fds": fds,
               "stdin": os.readlink("/proc/self/fd/0"),
               "mark": os.environ.get("CP_MARK")}, f)
with open(os.environ["CP_SETUP"]) as f:
    signer = json.load(f)["signer"]


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


out = {"Version": 1, "AccessKeyId": signer["id"],
       "SecretAccessKey": signer["secret"],
       "Expiration": stamp(time.time() + 3600)}
if mode == "noexp":
    del out["Expiration"]
elif mode == "expiring":
    runs = os.path.join(here, "runs.txt")
    n = int(open(runs).read()) if os.path.exists(runs) else 0
    with open(runs, "w") as f:
        f.write(str(n + 1))
    out["Expiration"] = stamp(time.time() + 5)
elif mode == "expired":
    out["Expiration"] = stamp(time.time() - 60)
elif mode == "v2":
    out["Version"] = 2
elif mode == "nokeys":
    del out["SecretAccessKey"]
elif mode == "badjson":
    print("{this is not JSON")
    sys.exit(0)
elif mode == "fail":
    sys.stderr.write("debug: token=FAKESECRET-4c1d9e\n"
                     "error: not logged in\tplease run the login\n")
    sys.exit(3)
elif mode == "slow":
    with open(os.path.join(here, "slow.pid"), "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
elif mode == "huge":
    sys.stdout.write("x" * 200000)
    sys.exit(0)
print(json.dumps(out))
if mode == "trailing":
    print("and then some")
