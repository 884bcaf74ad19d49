window.LAUNCHBOOK_SEARCH_PART("doc/9d8e906c9c615964",["run","v1.0 · Deploy the API","runs/deploy/20260301-1000-v1-0.html",[],[],"NO-GO · run 20260301-1000-v1-0 · CHG-1 · Olga · prod"]);
