"""A TCP or UDP echo server: echo.py tcp|udp ADDRESS PORT.

Prints `listening on ADDRESS:PORT` once ready, and `from HOST:PORT` for each
client (TCP) or datagram (UDP)."""
import socket
import sys

proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
if proto == "udp":
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, port))
    print(f"listening on {host}:{port}", flush=True)
    while True:
        data, peer = s.recvfrom(65535)
        print(f"from {peer[0]}:{peer[1]}", flush=True)
        s.sendto(data, peer)
else:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    print(f"listening on {host}:{port}", flush=True)
    import threading

    def serve(conn, peer):
        print(f"from {peer[0]}:{peer[1]}", flush=True)
        with conn:
            while True:
                data = conn.recv(65535)
                if not data:
                    return
                conn.sendall(data)

    while True:
        conn, peer = s.accept()
        threading.Thread(target=serve, args=(conn, peer), daemon=True).start()
