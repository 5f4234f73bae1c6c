set terminal svg size 760,480 dynamic font 'sans,12' background '#ffffff'
set grid
set key outside right top
set output 'fresh.svg'
set title 'fresh: recall@10 vs queries/s per state'
set xlabel 'recall@10'
set ylabel 'queries/s (1 thread, CPU time)'
set logscale y
plot 'fresh.dat' index 0 using 2:3 with linespoints lw 2 pt 7 title 't4dx memtable', \
     'fresh.dat' index 1 using 2:3 with linespoints lw 2 pt 7 title 't4dx indexed', \
     'fresh.dat' index 2 using 2:3 with linespoints lw 2 pt 7 title 't4dx segments'
