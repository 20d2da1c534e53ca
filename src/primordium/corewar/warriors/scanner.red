;redcode-94
;name Scanner
;author primordium
;strategy Compares two cells half a step apart; where they differ something
;strategy lives, so both get a DAT bomb. After one lap it clears the core.
;assert CORESIZE % 10 == 0
step    equ     10
laps    equ     (CORESIZE / step) - 2
scan    add.f   incr, ptr
ptr     seq.i   step, step + step / 2
        jmp     attack
        djn.b   scan, #laps
clear   mov.i   bomb, >ptr
        jmp     clear
attack  mov.i   bomb, *ptr
        mov.i   bomb, @ptr
        jmp     scan
incr    dat     #step, #step
bomb    dat     #0, #0
        end     scan
