"""RSA keys for the loopback mocks, shared by the processes of one test run.

tests/run.sh sets NK_KEY_CACHE to a directory of its own (removed when the
run ends). The Nth RSA key of a size that a mock process asks for is the
Nth key of that size in the directory, made by the first process that
needed it: the keys one process holds all differ, while two dozen mock
starts no longer each spend seconds of CPU making RSA-4096 keys. Without
NK_KEY_CACHE (a script run by itself) every key is new.
"""
import os
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_lock = threading.Lock()
_taken = {}  # bits -> keys of that size handed out by this process


def rsa_key(bits):
    """A private RSA key of BITS bits, not handed out before by this process."""
    cache = os.environ.get("NK_KEY_CACHE")
    if not cache:
        return rsa.generate_private_key(65537, bits)
    with _lock:
        n = _taken.get(bits, 0)
        _taken[bits] = n + 1
    path = os.path.join(cache, f"py-rsa{bits}-{n}.pem")
    try:
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), None)
    except FileNotFoundError:
        pass
    key = rsa.generate_private_key(65537, bits)
    os.makedirs(cache, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.replace(tmp, path)
    return key
