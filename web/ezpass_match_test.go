package web

// ezpassMatchMatrix lists the fleet, failures-queue and ledger routes.
var ezpassMatchMatrix = []access{}
