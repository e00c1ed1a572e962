"""Use-cases: what a job does, written against bot.ports only.

The Celery task calls ``bot.usecases.dispatch.run``, which picks the use-case by the job's kind; what a job
may touch is ``bot.usecases.context.JobPorts``. Nothing is imported here, so importing one use-case module
(the web process needs ``comments``) does not load them all.
"""
