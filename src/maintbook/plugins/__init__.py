"""The lifecycle's Ansible plugins: action plugins that run in the controller process.

Each module of `library/` keeps its documentation and argument spec; the action plugin of the
same name (in `action_plugins/`, a one-line import of a class here) validates its arguments
against that spec and calls the package's lifecycle functions. Nothing here re-reads the
runbook: the compiled playbook passes the maintenance's context as an argument.
"""
