# Stand-in for python:3.11-slim-bookworm (no image registry is reachable where the smoke runs):
# Debian bookworm's own Python 3.11 with venv and pip, `python` and `python3.11` on PATH.
# host-ca.crt is the CA bundle of the machine running the smoke, so pip inside the build trusts
# the same package-index certificates the host does.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY host-ca.crt /usr/local/share/ca-certificates/smoke-host-bundle.crt
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv python3-pip \
 && update-ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/python3 /usr/local/bin/python
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    LANG=C.UTF-8
CMD ["python3"]
