# syntax=docker/dockerfile:1
# One image for every SuoOps process; the command picks the role (CONTRACT §5):
#   IMAGE serve invoice | serve renderer | serve gateway | serve scheduler
#   IMAGE worker --queues pdf_generation                   (renderer workers)
#   IMAGE worker --queues email_sending whatsapp_sending   (delivery workers)
#   IMAGE migrate                                          (the migration Job)
# It runs as a non-root user on a read-only root filesystem: the only writes go to /tmp,
# which Kubernetes mounts as an emptyDir (deploy/k8s).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtual environment holding SuoOps and its dependencies ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only what the package is built from (.dockerignore keeps everything else out).
COPY pyproject.toml ./
COPY services ./services
COPY gateway ./gateway
COPY gen ./gen
# A regular, non-editable install: the runtime stage copies /opt/venv and nothing from /src.
# pip compiles the bytecode here, so nothing needs writing at run time.
RUN pip install .

# ---- runtime ----
FROM ${PYTHON_IMAGE} AS runtime
# WeasyPrint's Pango and HarfBuzz, and the system fonts the invoice template falls back to
# after its bundled Latin subset ("Noto Sans", "Noto Sans Arabic", "Noto Sans CJK SC" in
# services/renderer/templates/invoice.css): the same packages scripts/system_deps.sh installs
# for `make run` (tests/deploy/test_dockerfile.py keeps the two lists in step). The font
# cache is built now, because the root filesystem is read-only at run time.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      fontconfig \
      fonts-noto-cjk \
      fonts-noto-core \
      libharfbuzz-subset0 \
      libpango-1.0-0 \
      libpangoft2-1.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && fc-cache -f
# uid/gid 10001 is the runAsUser/runAsGroup of every pod in deploy/k8s.
RUN groupadd --system --gid 10001 suoops \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin suoops
COPY --from=build /opt/venv /opt/venv
# HOME and the caches point at /tmp, the one writable place; SUOOPS_DATA_DIR too (the
# processes look there for the env file `suoops dev` writes, which a pod never has).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    SUOOPS_DATA_DIR=/tmp/suoops
WORKDIR /app
USER 10001:10001
EXPOSE 8080 50051 50052 9101 9102 9103 9104
ENTRYPOINT ["suoops"]
CMD ["serve", "gateway"]
