"""The rules and state of the work itself, below the chat: proposals, roles and more.

Here live proposals, subscriptions, country records, operational presence, roles, follow-up
subjects, record verification and the checklists as stored. Chat handlers (`handlers/`), the
shell (`bot.workflow_cli`) and the web probes call these; nothing here knows a platform or
renders a reply.
"""
