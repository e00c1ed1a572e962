"""What a pull request breaks, before it merges: pure checks over a repository's YAML at the PR's head
against its base, for one Flux configuration (``run.preflight``).

One small module per check: ``syntax`` (YAML that does not parse), ``paths`` (a kustomization's path or
resources entry deleted or emptied), ``cross_namespace`` (sourceRefs into another namespace under
``multiTenancy.enforce``), ``chart_versions`` (a chart version the HelmRepository's index lacks) and
``depends_on`` (dependsOn cycles). ``tree`` composes the files with their line numbers; ``scope`` says which
files a kustomization builds. The job around them is bot/usecases/preflight.py.
"""
