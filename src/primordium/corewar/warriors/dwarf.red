;redcode-94
;name Dwarf
;author primordium (after A. K. Dewdney)
;strategy Drops a DAT bomb on every fourth cell of the core. With a step
;strategy that divides the core size it never hits its own code.
;assert CORESIZE % 4 == 0
step    equ     4
        add.ab  #step, bomb
        mov.i   bomb, @bomb
        jmp     -2
bomb    dat     #0, #0
        end
