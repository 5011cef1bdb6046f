package web

// faultyLadderMatrix lists the batch, email and faulty API routes.
var faultyLadderMatrix = []access{}
