"""Fleet rollouts: one set of ARM writes over many clusters, in waves, halted on the first failure.

``plan`` says what a run does (targets in wave order, each with its operations) and ``waves`` how clusters
fall into waves; ``progress`` is each operation's durable stage in the job store; ``goals`` judges what ARM
reports against what was written; ``engine`` is the one loop that writes under ARM's throttle, follows every
written cluster with bulk reads, and moves wave by wave; ``snapshot`` keeps the run's view for `fleet status`.
"""
