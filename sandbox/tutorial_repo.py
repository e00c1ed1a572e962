"""The sandbox's demo repository, shaped like the tutorial's gitops-flux2-kustomize-helm-mt.

Two layers: ``infrastructure/`` (nginx ingress and redis from Helm charts) and ``apps/``
(podinfo, a base plus staging and production overlays). HelmReleases carry no namespace so they land
in the flux configuration's namespace, as in the tutorial's multi-tenant layout; each release installs
into its own target namespace.
"""

from __future__ import annotations

from textwrap import dedent

TUTORIAL_SLUG = "Azure/gitops-flux2-kustomize-helm-mt"
TUTORIAL_URL = f"https://github.com/{TUTORIAL_SLUG}"


def _namespace(name: str) -> str:
    return dedent(f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {name}
        """)


def _helm_repository(name: str, url: str) -> str:
    return dedent(f"""\
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata:
          name: {name}
        spec:
          interval: 30m
          url: {url}
        """)


def _kustomization(*resources: str, extra: str = "") -> str:
    items = "".join(f"  - {r}\n" for r in resources)
    return "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" + items + dedent(extra)


_NGINX_RELEASE = dedent("""\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: nginx
    spec:
      interval: 30m
      releaseName: nginx-ingress-controller
      targetNamespace: nginx
      chart:
        spec:
          chart: nginx-ingress-controller
          version: "11.x"
          sourceRef:
            kind: HelmRepository
            name: bitnami-nginx
      values:
        service:
          type: LoadBalancer
        defaultBackend:
          enabled: true
    """)

_REDIS_RELEASE = dedent("""\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: redis
    spec:
      interval: 30m
      releaseName: redis
      targetNamespace: redis
      chart:
        spec:
          chart: redis
          version: "19.x"
          sourceRef:
            kind: HelmRepository
            name: bitnami-redis
      values:
        architecture: standalone
        auth:
          enabled: false
        master:
          persistence:
            enabled: false
    """)

_PODINFO_RELEASE = dedent("""\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: podinfo
    spec:
      interval: 10m
      releaseName: podinfo
      targetNamespace: podinfo
      chart:
        spec:
          chart: podinfo
          version: ">=6.0.0 <7.0.0"
          sourceRef:
            kind: HelmRepository
            name: podinfo
      values:
        replicaCount: 1
        ingress:
          enabled: true
          className: nginx
    """)


def _podinfo_values(env: str, replicas: int, host: str) -> str:
    return dedent(f"""\
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata:
          name: podinfo
        spec:
          values:
            replicaCount: {replicas}
            ui:
              message: "Hello from {env}"
            ingress:
              hosts:
                - host: {host}
                  paths:
                    - path: /
                      pathType: ImplementationSpecific
        """)


_OVERLAY_PATCH = """\
patches:
  - path: podinfo-values.yaml
    target:
      kind: HelmRelease
      name: podinfo
"""

_README = dedent("""\
    # gitops-flux2-kustomize-helm-mt (sandbox copy)

    A GitOps repository for Flux v2 on AKS and Azure Arc-enabled Kubernetes.

    - `infrastructure/` installs the shared services: the nginx ingress controller and redis,
      each from its Helm chart.
    - `apps/base/podinfo` describes the podinfo application; `apps/staging` and `apps/production`
      overlay it per environment.

    Create a Flux configuration with two kustomizations, the second depending on the first:

    ```
    az k8s-configuration flux create -g flux-demo-rg -c flux-demo-arc -n cluster-config \\
      --namespace cluster-config -t connectedClusters --scope cluster \\
      -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main \\
      --kustomization name=infra path=./infrastructure prune=true \\
      --kustomization name=apps path=./apps/staging prune=true dependsOn=["infra"]
    ```
    """)


def tutorial_files() -> dict[str, str]:
    """The files of the demo repository (path -> text), fresh on every call."""
    # One HelmRepository per component: two objects of one name in one namespace would not build.
    bitnami = "https://charts.bitnami.com/bitnami"
    return {
        "README.md": _README,
        "infrastructure/kustomization.yaml": _kustomization("nginx", "redis"),
        "infrastructure/nginx/kustomization.yaml": _kustomization("namespace.yaml", "repository.yaml", "release.yaml"),
        "infrastructure/nginx/namespace.yaml": _namespace("nginx"),
        "infrastructure/nginx/repository.yaml": _helm_repository("bitnami-nginx", bitnami),
        "infrastructure/nginx/release.yaml": _NGINX_RELEASE,
        "infrastructure/redis/kustomization.yaml": _kustomization("namespace.yaml", "repository.yaml", "release.yaml"),
        "infrastructure/redis/namespace.yaml": _namespace("redis"),
        "infrastructure/redis/repository.yaml": _helm_repository("bitnami-redis", bitnami),
        "infrastructure/redis/release.yaml": _REDIS_RELEASE,
        "apps/base/podinfo/kustomization.yaml": _kustomization("namespace.yaml", "repository.yaml", "release.yaml"),
        "apps/base/podinfo/namespace.yaml": _namespace("podinfo"),
        "apps/base/podinfo/repository.yaml": _helm_repository("podinfo", "https://stefanprodan.github.io/podinfo"),
        "apps/base/podinfo/release.yaml": _PODINFO_RELEASE,
        "apps/staging/kustomization.yaml": _kustomization("../base/podinfo", extra=_OVERLAY_PATCH),
        "apps/staging/podinfo-values.yaml": _podinfo_values("staging", 1, "podinfo.staging"),
        "apps/production/kustomization.yaml": _kustomization("../base/podinfo", extra=_OVERLAY_PATCH),
        "apps/production/podinfo-values.yaml": _podinfo_values("production", 2, "podinfo.production"),
    }
