;redcode-94
;name Imp
;author primordium (after A. K. Dewdney)
;strategy The smallest warrior: it moves itself one cell ahead, forever.
;assert 1
        mov.i   $0, $1
        end
