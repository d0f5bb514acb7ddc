"""Pages of gift-card pickup, one module per sub-domain; thin: permission/scope, one service or
selector, render or redirect. pickup/urls.py maps them."""
