"""Services: what more than one face needs, written once below them.

The admin, the REST API, the commands and the middleware translate between HTTP, forms or files and these
functions, and nothing more. A service may use the models, the snapshot and the engine; it never imports a
face (``cors_policies.admin``, ``cors_policies.api``, ``cors_policies.management``, the middleware):
``.importlinter`` holds the layers to that.

- :mod:`.allow_origin`: allowing an observed origin in its policy (the plan, the checks, the change);
- :mod:`.precedence`: where each policy stands in the engine's order, for lists of thousands;
- :mod:`.documents`: the JSON document of every policy: validation and export (import: ``cors_policies.sync``);
- :mod:`.policy_json`: one policy as JSON in and out, strictly typed, for the documents and the API;
- :mod:`.evaluate`: what the middleware would answer a described request (the tester, the API, the CLI);
- :mod:`.policies`: the admin's bulk actions (enable, disable, duplicate), with their history;
- :mod:`.observed`: what the observed-origin rows say about a policy, and what was not recorded.
"""
