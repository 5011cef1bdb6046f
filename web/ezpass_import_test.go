package web

// ezpassImportMatrix lists the import, transaction and E-ZPass API routes.
var ezpassImportMatrix = []access{}
