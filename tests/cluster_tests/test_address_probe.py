"""``--address`` checked before ``ray.init``: nothing listening, a port that is not a Ray GCS, a real GCS."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from click.testing import CliRunner

from robot_ray import cluster
from robot_ray.cli import main
from robot_ray.errors import RobotRayError


@pytest.fixture
def not_ray():
    """A TCP service on 127.0.0.1 that answers like an HTTP/1 server, not gRPC."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(64)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    server.close()


def test_a_port_that_is_not_a_ray_gcs_is_one_line_at_once(not_ray, data_dir, tmp_path):
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["search", "--data-dir", str(data_dir), "--seeds", "0", "--address", not_ray,
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "not a Ray cluster" in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert time.perf_counter() - start < 15  # ray.init used to take ~20 s and print ~20 lines first


def test_nothing_listening_is_refused():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(RobotRayError, match="no Ray cluster answers"):
        cluster._probe(f"127.0.0.1:{port}", timeout=1.0)


def test_a_real_gcs_passes_the_probe(ray_session):
    cluster._probe(ray_session.get_runtime_context().gcs_address)
