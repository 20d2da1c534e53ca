;redcode-94
;name Paper
;author primordium
;strategy A replicator: copy the body, last line first, to a new place;
;strategy start a process in the copy; pick the next place; repeat. Each
;strategy copy does the same, so it spreads faster than bombs can kill it.
;assert CORESIZE >= 800
size    equ     8
step    equ     1237
count   dat     #0, #0
start   mov.ab  #size, count
copy    mov.i   @count, <target
        djn.b   copy, count
        spl     @target
        add.ab  #step, target
        jmz.b   start, count
target  dat     #0, #step
        end     start
