"""Game blocks several tests build their small specs from (the library's dictator game at two
endowments, the prisoner's dilemma with four temptations), so each test spec says only what it
changes."""

DICTATOR = """game dictator "Dictator game" {
    players dictator, recipient
    param E = 10 vary {10, 20}
    dictator chooses give in [0, E]
    payoff dictator  = E - give
    payoff recipient = give
}
"""

PRISONERS_DILEMMA = """game prisoners_dilemma "Prisoner's dilemma" {
    players row, col symmetric
    param T = 5 vary {4, 5, 6, 8}, R = 3, P = 1, S = 0
    each player chooses move in {cooperate, defect}
    payoff row = table(row.move, col.move) {
        cooperate, cooperate: R;  cooperate, defect: S
        defect,    cooperate: T;  defect,    defect: P
    }
}
"""
