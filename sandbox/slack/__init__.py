"""A fake Slack at the HTTP level: Web API, response_url and the Slack side of slash commands and buttons.

``FakeSlack`` (in ``sandbox.slack.server``) serves it; slack_sdk and slack_bolt talk to it as to Slack.
"""

from sandbox.slack.server import FakeSlack

__all__ = ["FakeSlack"]
