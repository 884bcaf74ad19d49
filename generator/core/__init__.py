"""The core layer: small services every other layer may use, importing none of them.

Atomic files and hashing (:mod:`files`), locks (:mod:`locks`), the YAML loader
(:mod:`yamlload`), templating and theme lookup (:mod:`templating`), diagnostics
(:mod:`diagnostics`) and the error family (:mod:`errors`).
"""
