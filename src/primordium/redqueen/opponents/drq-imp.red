;redcode-94
;name DRQ imp
;author primordium (the instruction of the public DRQ code's initial opponent)
;strategy An imp that writes through its own A-field: }0 points one cell
;strategy ahead and then moves the pointer on, so each copy lands in front
;strategy of the process that runs next.
        mov.i   #1, }0
        end
