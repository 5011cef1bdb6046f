package web

// ezpassMatrix lists the E-ZPass and Ledger routes with the role each needs.
var ezpassMatrix = []access{}
