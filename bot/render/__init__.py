"""User-facing text, rendered in one place (house style rule 7).

``wording`` holds what every platform says the same way (phase names, revisions, times, which Flux
objects are failing); one module per platform turns the neutral views of ``bot.views`` into that
platform's format and splits it to the platform's limits: ``slack`` (Block Kit).
"""
