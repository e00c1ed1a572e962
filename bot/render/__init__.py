"""User-facing text, rendered in one place (house style rule 7).

``documents`` turns each neutral view of ``bot.views`` into one neutral ``document`` (headings,
fields, items, tables, status lines), once for every platform; ``wording`` holds the words every
platform says the same way (phase names, revisions, times, which Flux objects are failing). Each
platform is a thin backend walking the document with its one escaper and splitting it to the
platform's limits: ``slack`` (Block Kit; escaper ``slack_text``, limits ``slack_blocks``) and
``markdown`` (GitHub and Azure DevOps comments and check runs; escaper ``markdown_text``, which the
fleet plan comment ``plan_markdown`` uses too).
"""
