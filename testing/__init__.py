"""Test, demo and benchmark inputs that are not part of the engine: seeded scenario generators
(``testing.scenarios``) and the small literal incident stream of the doctests
(``testing.examples``). Installed with Vigil because ``vigil demo`` and ``vigil load`` use
``testing.scenarios.shop``; ``engine/`` imports it only inside its conformance examples."""
