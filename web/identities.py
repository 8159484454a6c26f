"""How this request shows people it may not identify (agents by a stable pseudonym without `agent.read`), and the
training rules in force, which decide what trainers may use."""

from __future__ import annotations

from flask import g

from recordings_service.training.agents import AgentNames, agent_names
from recordings_service.training_rules import TrainingRules
from web.database import runtime


def request_agent_names() -> AgentNames:
    """How this request shows agents without `agent.read`, read once per request. A pseudonym key made on first
    use is committed in a session of its own, so a read-only request never shows pseudonyms of a key it drops."""
    if "agent_names" not in g:
        rt = runtime()
        with rt.sessions() as session:
            g.agent_names = agent_names(session, rt.envelope, show_agents=rt.settings.training_show_agents)
            session.commit()
    names: AgentNames = g.agent_names
    return names


def training_rules() -> TrainingRules:
    return TrainingRules.from_settings(runtime().settings)
