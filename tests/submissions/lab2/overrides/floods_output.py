def hypothesis(x, W, b):
    line = "flood " * 200
    while True:
        print(line)
