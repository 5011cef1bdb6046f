package web

// ezpassMatrix lists the E-ZPass and Ledger routes with the role each needs:
// imports, transactions and API (ezpass_import_test.go), fleet, failures,
// ledger (ezpass_match_test.go).
var ezpassMatrix = append(append([]access{}, ezpassImportMatrix...), ezpassMatchMatrix...)
