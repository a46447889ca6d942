"""The Tune layer: Ray Tune searchers (RoBoT, every baseline), the seed fan-out, trainables."""
