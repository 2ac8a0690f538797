#!/usr/bin/env bash
# verify-signature timings: prints "name median_ms p90_ms peak_rss_kb" for a
# warm CRL cache, a cold CRL cache and an OCSP check, 50 runs each, against
# loopback servers (tests/lib/ocsp.sh). Called by tests/bench.sh.
. "$(dirname "$0")/../lib/harness.sh"
. "$NK_ROOT/tests/lib/ocsp.sh"
RUNS=${NK_BENCH_RUNS:-50}
P=$NK_TMP/pki
OP=$(free_port) CP=$(free_port)
rev_pki "$P" "$OP" "$CP" "$(free_port)" "$(free_port)" || exit 1
rev_responder "$P" "$OP" ocsp "$NK_TMP/ocsp.log" || exit 1
at_exit "kill $REV_PID"
"$NK_PY" "$NK_ROOT/tests/lib/verify_server.py" "$CP" "$P/www" &
at_exit "kill $!"
wait_port "$CP" || exit 1

req() { # CONFIG LEAF
    printf '{"contractVersion":"1.0","signature":{"criticalAttributes":{"contentType":"application/vnd.cncf.notary.payload.v1+json","signingScheme":"notary.x509","expiry":"0001-01-01T00:00:00Z"},"unprocessedAttributes":null,"certificateChain":["%s","%s","%s"]},"trustPolicy":{"trustedIdentities":["*"],"signatureVerification":["SIGNATURE_VERIFIER.TRUSTED_IDENTITY","SIGNATURE_VERIFIER.REVOCATION_CHECK"]},"pluginConfig":%s}' \
        "$(cat "$P/$2.b64")" "$(cat "$P/inter.b64")" "$(cat "$P/root.b64")" "$1"
}

# bench NAME REQFILE CLEAR-CACHE(0|1)
bench() {
    "$NK_PY" - "$NK_BIN" "$2" "$3" "$RUNS" "$1" "$XDG_CACHE_HOME" <<'PY'
import shutil, subprocess, sys, time
binary, reqf, clear, runs, name, cache = sys.argv[1:7]
data = open(reqf, "rb").read()
times = []
for _ in range(int(runs)):
    if clear == "1":
        shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    p = subprocess.run([binary, "verify-signature"], input=data,
                       capture_output=True)
    times.append((time.perf_counter() - t0) * 1000)
    if p.returncode != 0 or b'"success":false' in p.stdout:
        sys.exit("%s: run failed: %r %r" % (name, p.stdout[:200], p.stderr[:200]))
times.sort()
# Peak RSS from GNU time: a child forked by Python would report Python's.
if clear == "1":
    shutil.rmtree(cache, ignore_errors=True)
p = subprocess.run(["/usr/bin/time", "-f", "%M", binary, "verify-signature"],
                   input=data, capture_output=True)
rss = int(p.stderr.decode().strip().splitlines()[-1])
print("%s %.2f %.2f %d" % (name, times[len(times) // 2],
                           times[int(len(times) * 0.9)], rss))
PY
}

export XDG_CACHE_HOME=$NK_TMP/cache
req '{}' leaf-crl >"$NK_TMP/crl.json"
req '{"crl-cache":"false"}' leaf-good >"$NK_TMP/ocsp.json"
"$NK_BIN" verify-signature <"$NK_TMP/crl.json" >/dev/null # warm up
bench verify-crl-warm "$NK_TMP/crl.json" 0
bench verify-crl-cold "$NK_TMP/crl.json" 1
bench verify-ocsp "$NK_TMP/ocsp.json" 0
