"""A client that keeps a TCP connection to an echo server and reconnects
when it breaks: reconnecting_client.py HOST PORT.

Prints `connected` (first time), `reply N` every few exchanges, `lost: WHY`
when an exchange fails, and `reconnected after N attempts` once back."""
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
attempts, ever, n = 0, False, 0
while True:
    try:
        s = socket.create_connection((host, port), timeout=0.5)
    except OSError:
        attempts += 1
        time.sleep(0.2)
        continue
    print("reconnected after %d attempts" % attempts if ever else "connected", flush=True)
    ever, attempts = True, 0
    s.settimeout(0.5)
    try:
        while True:
            n += 1
            s.sendall(b"ping %d\n" % n)
            if not s.recv(100):
                raise OSError("closed by the server")
            if n % 5 == 0:
                print("reply %d" % n, flush=True)
            time.sleep(0.05)
    except OSError as e:
        print("lost: %s" % (e or type(e).__name__), flush=True)
        s.close()
