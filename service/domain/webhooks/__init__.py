"""Webhooks: events out, to endpoints accounts and apps register (the Standard Webhooks spec).

`events` is the catalogue (each type, the scopes an app needs for it, its thin payload);
`rules` the retry schedule and what an answer means; `secrets` the signing secrets, sealed at
rest; `endpoints` registering, changing and rotating; `access` what an app may be sent for an
athlete (its OAuth grants); `outbox` writing events in the transaction of the change that caused
them; `deliveries` claiming, recording, redelivering and the delivery log. Every subdomain that
causes an event imports this one; it imports only `notify` (an endpoint disabled is its owner's
notification) and `accounts`. docs/webhooks.md is for receivers.
"""
