"""The OData reads behind the portal's lookups: with orders.list_reads, the only domain modules that build queries
for customer lookups and send them through the process-wide client (orders.d365).

Every read takes the customer's accounts and puts them in the $filter, and checks what F&O sends back against them
again: a filter alone is never trusted. They return F&O's rows; orders.selectors turns them into what is shown
(orders.presenters), caches them (orders.cached_reads) and scopes them to the user.
"""
