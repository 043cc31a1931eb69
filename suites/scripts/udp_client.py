"""A UDP client that retries: udp_client.py HOST PORT COUNT.

Sends COUNT numbered requests, one at a time; each is sent again after
200 ms without a reply, up to 10 times. Prints `answered N of COUNT after
R retries` and exits 0 when every request was answered, 1 otherwise."""
import socket
import sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(0.2)
answered = retries = 0
for n in range(count):
    msg = b"request %d" % n
    for attempt in range(10):
        s.sendto(msg, (host, port))
        try:
            while True:
                data, _ = s.recvfrom(65535)
                if data == msg:
                    break
            answered += 1
            break
        except socket.timeout:
            retries += 1
print("answered %d of %d after %d retries" % (answered, count, retries), flush=True)
sys.exit(0 if answered == count else 1)
